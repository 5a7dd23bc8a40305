"""The daily report e-mail: what goes out today, what happened yesterday."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date, format_datetime

from ..lib.notify_engine import replies
from ..lib.notify_engine.gateways import base as gateway_errors
from .notify_reasons import reason_text

REPORT_PARAM = "insurance_notify.daily_report_date"
# The report leaves on the first run from this local hour: the hourly planner
# has planned the day by then.
REPORT_HOUR = 7
# Failures that stop every message of a gateway, not one client's.
GATEWAY_PROBLEMS = (gateway_errors.AUTHORIZATION, gateway_errors.CREDITS)
# Messages that waited for a provider that was down (or gave up waiting).
OUTAGE_REASONS = ("provider_down", "late_outage", "expired")


class InsuranceNotifyRule(models.Model):
    _inherit = "insurance.notify.rule"

    report_user_ids = fields.Many2many(
        "res.users",
        "insurance_notify_rule_report_user_rel",
        "rule_id",
        "user_id",
        string="Send the daily report to",
        domain=[("share", "=", False)],
        help="Each morning these users get one e-mail: what this notification sends "
        "today and what it sent, delivered, failed and skipped yesterday.",
    )

    def action_send_report_now(self):
        """Send these notifications' daily report now, so a report set up today
        is seen today; the morning report still leaves tomorrow."""
        self.check_access("write")
        if not self.report_user_ids.filtered("email"):
            raise UserError(
                self.env._("Choose who receives the daily report (users with an e-mail address).")
            )
        Message = self.env["insurance.notify.message"]
        tz = self._report_timezone()
        today = pytz.utc.localize(Message._now()).astimezone(pytz.timezone(tz)).date()
        rules = self.sudo()
        stats = rules._report_stats(today, tz)
        users = rules.report_user_ids.filtered("email")
        for user in users:
            rules.filtered(lambda rule, user=user: user in rule.report_user_ids)._report_mail(
                user, today, stats
            )
        self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "The report was sent to %(users)s.", users=", ".join(users.mapped("name"))
                ),
            },
        }

    @api.model
    def _report_timezone(self):
        return self.env.company.partner_id.tz or self[:1].timezone or "UTC"

    @api.model
    def _cron_daily_report(self):
        """Send every subscribed user one report a day; return the mails created."""
        Message = self.env["insurance.notify.message"]
        rules = self.search([("report_user_ids", "!=", False)])
        tz = rules._report_timezone()
        now_local = pytz.utc.localize(Message._now()).astimezone(pytz.timezone(tz))
        today = now_local.date()
        if now_local.hour < REPORT_HOUR:
            return self.env["mail.mail"]
        params = self.env["ir.config_parameter"].sudo()
        if params.get_param(REPORT_PARAM) == fields.Date.to_string(today):
            return self.env["mail.mail"]
        params.set_param(REPORT_PARAM, fields.Date.to_string(today))
        if not rules:
            return self.env["mail.mail"]
        stats = rules._report_stats(today, tz)
        mails = self.env["mail.mail"]
        users = rules.report_user_ids.filtered("email")
        for user in users:
            user_rules = rules.filtered(lambda rule, user=user: user in rule.report_user_ids)
            mails |= user_rules._report_mail(user, today, stats)
        if mails:
            self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        return mails

    def _report_stats(self, today, tz):
        """One grouped query over yesterday and today, by rule, channel, state,
        reason, gateway and error class; the day is the one each message was due."""
        Message = self.env["insurance.notify.message"].sudo().with_context(tz=tz)
        yesterday = today - timedelta(days=1)
        zone = pytz.timezone(tz)

        def utc(day):
            local = zone.localize(datetime.combine(day, time.min))
            return local.astimezone(pytz.utc).replace(tzinfo=None)

        groups = Message._read_group(
            [
                ("rule_id", "in", self.ids),
                ("scheduled_at", ">=", utc(yesterday)),
                ("scheduled_at", "<", utc(today + timedelta(days=1))),
            ],
            [
                "scheduled_at:day",
                "rule_id",
                "channel",
                "state",
                "reason_code",
                "gateway_id",
                "error_class",
                "is_sandbox",
            ],
            ["__count"],
        )
        counts = defaultdict(lambda: defaultdict(int))
        skipped = defaultdict(lambda: defaultdict(int))
        problems = defaultdict(int)
        waited = defaultdict(int)
        for day, rule, channel, state, reason, gateway, error_class, sandbox, count in groups:
            day = day.date() if isinstance(day, datetime) else day
            when = "today" if day == today else "yesterday"
            bucket = counts[rule, channel]
            if when == "today":
                if state in ("queued", "sending"):
                    bucket["today"] += count
                continue
            if sandbox and state in ("sent", "delivered"):
                # Kept by the sandbox, never sent: counted apart, never as sent.
                bucket["sandbox"] += count
            elif state in ("sent", "delivered", "failed", "skipped"):
                bucket[state] += count
            if state == "skipped":
                skipped[rule][reason or ""] += count
            if state == "failed" and error_class in GATEWAY_PROBLEMS:
                problems[gateway, error_class, reason or ""] += count
            if reason in OUTAGE_REASONS:
                waited[gateway] += count
        return {
            "counts": counts,
            "skipped": skipped,
            "problems": problems,
            "outages": self._report_outages(waited, utc(yesterday), zone),
            # Clients' replies nobody answered within the company's target.
            "late_replies": self.env["insurance.notify.reply"]._late(
                self.company_id, self.env["insurance.notify.message"]._now()
            ),
        }

    @api.model
    def _report_outages(self, waited, since, zone):
        """Gateways whose provider was down since ``since``, with when and how
        many of these rules' messages waited for it (or lost their point)."""
        gateways = (
            self.env["insurance.notify.gateway"]
            .sudo()
            .search(["|", ("outage_since", "!=", False), ("last_outage_start", ">=", since)])
        )
        gateways |= (
            self.env["insurance.notify.gateway"]
            .sudo()
            .browse(gateway.id for gateway in waited if gateway)
        )

        def local(moment):
            return pytz.utc.localize(moment).astimezone(zone).strftime("%H:%M") if moment else ""

        return [
            {
                "gateway": gateway.name,
                "start": local(gateway.outage_since or gateway.last_outage_start),
                "end": "" if gateway.outage_since else local(gateway.last_outage_end),
                "count": waited.get(gateway, 0),
            }
            for gateway in gateways
        ]

    def _report_mail(self, user, today, stats):
        """The report of these rules for ``user``, as a queued mail.mail."""
        rules = self.with_context(lang=user.lang)
        reasons = dict(
            self.env["insurance.notify.message"]
            .with_context(lang=user.lang)
            ._fields["reason_code"]
            ._description_selection(rules.env)
        )
        channels = dict(
            self.env["insurance.notify.message"]
            .with_context(lang=user.lang)
            ._fields["channel"]
            ._description_selection(rules.env)
        )
        rows = []
        for rule in rules:
            for channel, label in channels.items():
                bucket = stats["counts"].get((rule, channel))
                if bucket:
                    rows.append({"rule": rule, "channel": label, **_defaults(bucket)})
        problems = [
            {
                "gateway": gateway.name or "",
                "problem": rules._gateway_problem_label(error_class),
                "reason": reason_text(reasons, reason, None),
                "count": count,
            }
            for (gateway, error_class, reason), count in stats["problems"].items()
        ]
        skipped = [
            {"rule": rule, "reason": reason_text(reasons, reason, None), "count": count}
            for rule in rules
            for reason, count in sorted(stats["skipped"].get(rule, {}).items())
        ]
        values = {
            "sandbox": sum(row["sandbox"] for row in rows),
            "user": user,
            "today": today,
            "yesterday": today - timedelta(days=1),
            "rows": rows,
            "skipped": skipped,
            "problems": problems,
            "outages": stats.get("outages", []),
            "late_replies": [
                {
                    "who": reply.partner_id.display_name or reply.number or reply.email or "",
                    "received": format_datetime(rules.env, reply.received_at, tz=user.tz),
                    "broker": reply.user_id.name or "",
                    "document": reply.document_name or "",
                    "text": replies.excerpt(reply.text, 160),
                }
                for reply in stats.get("late_replies", self.env["insurance.notify.reply"])
                if reply.company_id in user.company_ids
            ],
            "format_date": lambda day: _format_date(rules.env, day),
        }
        body = (
            self.env["ir.qweb"]
            .with_context(lang=user.lang)
            ._render("insurance_notify.daily_report_email", values)
        )
        subject = rules.env._(
            "Notifications report for %(date)s", date=_format_date(rules.env, today)
        )
        company = user.company_id
        return (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "subject": subject,
                    "body_html": body,
                    "email_from": company.email_formatted
                    or self.env.ref("base.partner_root").email_formatted,
                    "email_to": user.email_formatted,
                    "recipient_ids": [],
                    "auto_delete": True,
                }
            )
        )

    @api.model
    def _gateway_problem_label(self, error_class):
        return {
            gateway_errors.AUTHORIZATION: self.env._(
                "authorization refused: check the gateway's credentials"
            ),
            gateway_errors.CREDITS: self.env._("no credits left on the provider account"),
        }.get(error_class, error_class)


def _defaults(bucket):
    return {
        key: bucket.get(key, 0)
        for key in ("today", "sent", "delivered", "sandbox", "failed", "skipped")
    }


def _format_date(env, day):
    return format_date(env, day) if isinstance(day, date) else ""
