"""Planning: the messages of a rule's occurrences, their recipients and consent."""

from collections import namedtuple

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_datetime, split_every

from notify_engine import consent, schedule

Recipient = namedtuple("Recipient", "channel number email timezone reason")


class InsuranceNotifyMessage(models.Model):
    _inherit = "insurance.notify.message"

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------

    @api.model
    def _make_key(self, rule, res_model, res_id, offset, event_date):
        return f"{rule.id}-{res_model}-{res_id}-{offset}-{rule.channel}-{event_date}"

    @api.model
    def _create_planned(self, rule, occurrences):
        """Create the messages of a rule's occurrences, skipping keys that exist."""
        res_model = rule.res_model
        keyed = {
            self._make_key(rule, res_model, occ.res_id, occ.offset, occ.event_date): occ
            for occ in occurrences
        }
        if not keyed:
            return self
        existing = {
            key
            for (key,) in self.env.execute_query(
                SQL("SELECT key FROM insurance_notify_message WHERE key = ANY(%s)", list(keyed))
            )
        }
        partners = self.env["res.partner"].browse({occ.partner_id for occ in keyed.values()})
        recipients = self._recipients(partners, rule)
        now = self._now()
        gateway = rule.gateway_id or self.env["insurance.notify.gateway"]._default_for_company(
            rule.company_id
        )
        window = rule._window()
        # Every recipient in one timezone gets the same slot: compute it once.
        slots = {}
        vals_list = []
        for key, occ in keyed.items():
            if key in existing:
                continue
            recipient = recipients[occ.partner_id]
            vals = {
                "key": key,
                "rule_id": rule.id,
                "company_id": rule.company_id.id,
                "res_model": res_model,
                "res_id": occ.res_id,
                "policy_id": occ.policy_id,
                "partner_id": occ.partner_id,
                "channel": recipient.channel,
                "offset": occ.offset,
                "event_date": occ.event_date,
                "number": recipient.number,
                "email": recipient.email,
                "timezone": recipient.timezone,
                "gateway_id": gateway.id if recipient.channel == "sms" else False,
                "state": "queued",
            }
            self._skip_or_schedule(
                vals, rule._skip_reason(occ) or recipient.reason, now, window, slots
            )
            vals_list.append(vals)
        return self._insert_planned(vals_list)

    @api.model
    def _skip_or_schedule(self, vals, skip_reason, now, window, slots):
        """Mark a new message's values skipped with the reason, or give them the
        next slot of the sending window in the recipient's timezone. ``slots``
        caches that slot per timezone: every recipient in one gets the same."""
        if skip_reason:
            vals.update(state="skipped", reason=skip_reason, scheduled_at=now)
            return
        timezone = vals["timezone"]
        if timezone not in slots:
            slots[timezone] = schedule.next_window_start(now, timezone, *window)
        vals["scheduled_at"] = slots[timezone]

    # Columns a planned message is created with; the others start empty.
    PLANNED_COLUMNS = (
        "key", "rule_id", "company_id", "res_model", "res_id", "policy_id", "partner_id",
        "channel", "offset", "event_date", "number", "email", "timezone", "gateway_id",
        "state", "reason", "scheduled_at",
    )  # fmt: skip

    @api.model
    def _insert_planned(self, vals_list):
        """Insert planned messages in one statement.

        A day's planning creates thousands of rows whose values are all known;
        the ORM's create spends most of the planner's time on defaults and
        caches these rows do not need. The model has no computed stored field
        nor default beyond ``state``, which every row sets.
        """
        if not vals_list:
            return self
        unknown = {column for vals in vals_list for column in vals} - set(self.PLANNED_COLUMNS)
        if unknown:
            raise ValueError(f"not a planned message column: {sorted(unknown)}")
        self.env.flush_all()
        uid, now = self.env.uid, self.env.cr.now()
        columns = SQL(", ").join(
            SQL.identifier(column)
            for column in (
                *self.PLANNED_COLUMNS,
                "create_uid",
                "create_date",
                "write_uid",
                "write_date",
            )
        )
        ids = []
        for chunk in split_every(5000, vals_list):
            # One array a column, cast to the column's type: a handful of
            # parameters however many rows, so the statement is cheap to build.
            arrays = SQL(", ").join(
                SQL(
                    "%s::%s[]",
                    [vals.get(column) or None for vals in chunk],
                    SQL(self._fields[column].column_type[1]),
                )
                for column in self.PLANNED_COLUMNS
            )
            query = SQL(
                "INSERT INTO insurance_notify_message (%s) "
                "SELECT *, %s, %s, %s, %s FROM unnest(%s) RETURNING id",
                columns,
                uid,
                now,
                uid,
                now,
                arrays,
            )
            ids += [row[0] for row in self.env.execute_query(query)]
        # One2many fields (a policy's reminders, a rule's messages) must see them.
        self.env.invalidate_all()
        return self.browse(ids)

    @api.model
    def _recipients(self, partners, rule):
        """partner id -> Recipient: the channel this rule reaches them on, the
        address, their timezone, and the reason not to send (or None).

        ``rule`` is an automatic rule or a bulk send: anything with
        ``company_id``, ``channel``, ``timezone`` and ``_consent_requirements()``."""
        company_tz = rule.company_id.partner_id.tz
        # Only the columns deciding a recipient: a partner has dozens more.
        specific_field = rule._consent_requirements()[1]
        partners.fetch(
            [
                "tz",
                "phone_sanitized",
                "email_normalized",
                "consent_sms",
                "consent_email",
                "consent_marketing",
                "consent_valid_until",
                *([specific_field] if specific_field else []),
            ]
        )
        numbers = [number for number in partners.mapped("phone_sanitized") if number]
        emails = [email for email in partners.mapped("email_normalized") if email]
        # Both blacklists hold normalized values: compare in SQL, not through their
        # search, which re-formats every number.
        blacklisted_numbers = {
            number
            for (number,) in self.env.execute_query(
                SQL(
                    "SELECT number FROM phone_blacklist WHERE active AND number = ANY(%s)",
                    numbers,
                )
            )
        }
        blacklisted_emails = {
            email
            for (email,) in self.env.execute_query(
                SQL("SELECT email FROM mail_blacklist WHERE active AND email = ANY(%s)", emails)
            )
        }
        channels = ["sms", "email"] if rule.channel == "sms_email" else [rule.channel]
        today = self._today()
        return {
            partner.id: self._recipient(
                partner,
                rule,
                channels,
                today,
                schedule.resolve_timezone(partner.tz, company_tz, default=rule.timezone),
                blacklisted_numbers,
                blacklisted_emails,
            )
            for partner in partners
        }

    @api.model
    def _recipient(self, partner, rule, channels, today, timezone, bl_numbers, bl_emails):
        reason = None
        for channel in channels:
            if channel == "sms":
                address = partner.phone_sanitized
                blacklisted = address in bl_numbers
                missing = self.env._("no valid mobile number")
            else:
                address = partner.email_normalized
                blacklisted = address in bl_emails
                missing = self.env._("no valid e-mail address")
            if not address:
                reason = reason or missing
                continue
            decision = self._consent_decision(partner, rule, channel, blacklisted, today)
            if decision.allowed:
                reason = None
                break
            reason = reason or self._consent_reason(decision.reason, channel)
        return Recipient(
            channel=channel,
            number=partner.phone_sanitized if channel == "sms" else False,
            email=partner.email_normalized if channel == "email" else False,
            timezone=timezone,
            reason=reason,
        )

    @api.model
    def _consent_decision(self, partner, rule, channel, blacklisted, today):
        """``rule``: an automatic rule or a bulk send (both say what consent they need)."""
        mode, specific_field = rule._consent_requirements()
        return consent.decide(
            mode,
            channel_allowed=partner.consent_sms if channel == "sms" else partner.consent_email,
            blacklisted=blacklisted,
            marketing=partner.consent_marketing,
            specific=bool(specific_field and partner[specific_field]),
            consent_valid_until=partner.consent_valid_until,
            today=today,
        )

    @api.model
    def _consent_reason(self, code, channel):
        channel_label = self.env._("SMS") if channel == "sms" else self.env._("e-mail")
        return {
            consent.BLACKLISTED: self.env._(
                "%(channel)s blacklisted (opted out)", channel=channel_label
            ),
            consent.CHANNEL_CONSENT_MISSING: self.env._(
                "no consent to %(channel)s", channel=channel_label
            ),
            consent.MARKETING_CONSENT_MISSING: self.env._("no marketing consent"),
            consent.SPECIFIC_CONSENT_MISSING: self.env._("no consent to this notification"),
            consent.CONSENT_EXPIRED: self.env._("consent expired"),
        }[code]

    def _recheck_consent(self):
        """At send time a withdrawal wins: skip what may no longer go; return the rest."""
        today = self._today()
        refused = self.browse()
        for message in self:
            sender = message.rule_id or message.batch_id
            if not sender:
                continue
            partner = message.partner_id
            if message.channel == "sms":
                blacklisted = bool(partner.phone_sanitized_blacklisted)
            else:
                blacklisted = bool(partner.is_blacklisted)
            decision = self._consent_decision(partner, sender, message.channel, blacklisted, today)
            if not decision.allowed:
                message.write(
                    {
                        "state": "skipped",
                        "reason": self._consent_reason(decision.reason, message.channel),
                    }
                )
                refused |= message
        return self - refused

    @api.model
    def _send_now(self, records, event_type):
        """Send the reminders of ``event_type`` about ``records`` now, by hand.

        They take the keys the automatic run would use, so it will not send them
        again; one already sent is not sent twice. Inside the sending window they
        leave at once, outside it they wait for the window like any other.
        Returns the messages concerned (new ones and ones already there).
        """
        rules = self.env["insurance.notify.rule"].search(
            [("event_type", "=", event_type), ("company_id", "in", records.company_id.ids)]
        )
        if not rules:
            raise UserError(
                self.env._("No active automatic notification sends this kind of reminder.")
            )
        today = self._today()
        concerned = self.browse()
        for rule in rules.sudo():
            occurrences = rule._occurrences_now(records, today)
            keys = [
                self._make_key(rule, rule.res_model, occ.res_id, occ.offset, occ.event_date)
                for occ in occurrences
            ]
            concerned |= self._create_planned(rule, occurrences)
            concerned |= self.sudo().search([("key", "in", keys)])
        if not concerned:
            raise UserError(
                self.env._("No reminder applies: the event is past or outside the rules' filters.")
            )
        now = self._now()
        due = concerned.filtered(lambda m: m.state == "queued" and m.scheduled_at <= now)
        due._dispatch(now)
        return concerned

    @api.model
    def _action_send_now(self, records, event_type):
        """The "Send now" buttons: send, then tell the user what happened."""
        sent_states = ("sent", "delivered")
        already_sent = self.sudo().search(
            [
                ("res_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("state", "in", sent_states),
            ]
        )
        messages = self.sudo()._send_now(records, event_type)
        lines = []
        for message in messages:
            to = message.number or message.email or message.partner_id.display_name
            if message in already_sent:
                lines.append(
                    self.env._(
                        "Already sent to %(to)s on %(date)s.",
                        to=to,
                        date=format_datetime(self.env, message.sent_at),
                    )
                )
            elif message.state in sent_states:
                lines.append(self.env._("Sent to %(to)s.", to=to))
            elif message.state in ("queued", "sending"):
                lines.append(
                    self.env._(
                        "Queued for %(to)s: leaves at %(date)s, inside the sending hours.",
                        to=to,
                        date=format_datetime(self.env, message.scheduled_at),
                    )
                )
            else:
                lines.append(
                    self.env._("Not sent to %(to)s: %(reason)s.", to=to, reason=message.reason)
                )
        new = messages - already_sent
        if any(message.state in sent_states for message in new):
            kind = "success"
        elif any(message.state in ("failed", "skipped", "cancelled") for message in new):
            kind = "danger"
        else:
            kind = "warning" if new else "info"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Reminder"),
                "message": "\n".join(lines),
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _last_sent(self, records, event_types):
        """record id -> when its last reminder of ``event_types`` was sent."""
        return dict(
            self.sudo()._read_group(
                [
                    ("res_model", "=", records._name),
                    ("res_id", "in", records.ids),
                    ("state", "in", ("sent", "delivered")),
                    ("rule_id.event_type", "in", event_types),
                ],
                ["res_id"],
                ["sent_at:max"],
            )
        )

    @api.model
    def _cancel_queued_for(self, records, reason):
        queued = self.search(
            [
                ("res_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("state", "=", "queued"),
            ]
        )
        queued.write({"state": "cancelled", "reason": reason})
        return queued
