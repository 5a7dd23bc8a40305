"""A bulk send's messages: which records it reaches, and the messages it queues."""

import logging
from datetime import timedelta

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..lib.notify_engine import sms
from .insurance_notify_sender import QueueItem
from .notify_event_sources import event_filters

# Clients with a valid policy, in the columns of the event sources, so that the
# same filters apply; one row per client.
ALL_CLIENTS = SQL(
    """
    SELECT DISTINCT ON (p.partner_id) p.partner_id AS res_id, p.partner_id,
           NULL::int AS policy_id, NULL::date AS event_date, p.company_id, p.insurer_id,
           p.product_id, p.user_id, p.sales_channel, p.state AS policy_state, NULL AS skip
      FROM insurance_policy p
      JOIN res_partner r ON r.id = p.partner_id
     WHERE r.active AND NOT COALESCE(r.is_insurer, FALSE) AND p.state = 'valid'
    """
)

ALREADY_REMINDED_WITHIN = timedelta(hours=24)
# What a resumed message takes from the queue's preparation: where and when it
# goes, or why not. Its key, sender, document and first due time stay.
RESUMED_FIELDS = (
    "channel", "number", "email", "timezone", "gateway_id", "body", "state",
    "reason_code", "reason_params", "scheduled_at",
)  # fmt: skip

_logger = logging.getLogger(__name__)


class InsuranceNotifyBatch(models.Model):
    _inherit = "insurance.notify.batch"

    # ------------------------------------------------------------------
    # Selection
    # ------------------------------------------------------------------

    def _select_targets(self):
        """[(res_id, partner_id, policy_id, event_date)] this send is about,
        without the clients the broker unticked in the review."""
        self.ensure_one()
        excluded = set(self.excluded_partner_ids.ids)
        return [target for target in self._find_targets() if target[1] not in excluded]

    def _find_targets(self):
        """[(res_id, partner_id, policy_id, event_date)] matching the filters,
        excluded clients included (the review shows them, unticked)."""
        self.ensure_one()
        if self.kind == "broadcast":
            partners = self.partner_ids.filtered(lambda partner: partner.active)
            return [(partner.id, partner.id, None, None) for partner in partners]
        if not self.target:
            return []
        conditions = [
            event_filters(self.company_id, self.insurer_ids, self.product_ids, self.user_ids)
        ]
        if self.target == "all_clients":
            events = ALL_CLIENTS
        else:
            today = self.env["insurance.notify.message"]._today()
            events = self._notify_event_sources()[self.target].query(today, self.company_id)
            # Only what is still to come and still concerns the client.
            conditions += [
                SQL("e.event_date >= %s", self.date_from or today),
                SQL("e.skip IS NULL"),
                SQL("COALESCE(e.policy_state, 'valid') = 'valid'"),
            ]
            if self.date_to:
                conditions.append(SQL("e.event_date <= %s", self.date_to))
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                """
                SELECT e.res_id, e.partner_id, e.policy_id, e.event_date
                  FROM (%s) AS e
                 WHERE e.partner_id IS NOT NULL AND %s
                 ORDER BY e.event_date, e.res_id
                """,
                events,
                SQL(" AND ").join(conditions),
            )
        )

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------

    def _create_messages(self):
        """Queue this send's messages (the queue's one entry point decides the
        recipients, consent and window); return them."""
        self.ensure_one()
        targets = self._select_targets()
        if not targets:
            raise UserError(self.env._("No client matches this send."))
        return (
            self.env["insurance.notify.message"].sudo()._enqueue(self, self._queue_items(targets))
        )

    def _queue_items(self, targets):
        """The QueueItem of each target; records another message reached lately
        are skipped as already reminded."""
        reminded = self._already_reminded([target[0] for target in targets])
        return [
            QueueItem(
                res_model=self.res_model,
                res_id=res_id,
                partner_id=partner_id,
                policy_id=policy_id,
                event_date=event_date,
                skip="already_reminded" if res_id in reminded else None,
            )
            for res_id, partner_id, policy_id, event_date in targets
        ]

    def _already_reminded(self, res_ids):
        """Records of a service reminder that another message reached lately."""
        if self._is_marketing():
            return set()
        since = self.env["insurance.notify.message"]._now() - ALREADY_REMINDED_WITHIN
        self.env["insurance.notify.message"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT res_id FROM insurance_notify_message
                 WHERE res_model = %s AND res_id = ANY(%s)
                   AND (batch_id IS NULL OR batch_id != %s)
                   AND (state IN ('queued', 'sending')
                        OR (state IN ('sent', 'delivered') AND sent_at >= %s))
                """,
                self.res_model,
                res_ids,
                # A form not saved yet (its estimate) has a NewId: no message is its own.
                self._origin.id or 0,
                since,
            )
        )
        return {res_id for (res_id,) in rows}

    # ------------------------------------------------------------------
    # Review before sending, resume after STOP
    # ------------------------------------------------------------------

    def _review_messages(self, targets):
        """key -> the values of the message each target would become (the
        queue's own preparation: state, reason code, channel, address), with
        the SMS ``text``, its ``sms_parts`` and ``cost`` as the dispatcher will
        count them, and ``render_error`` when the text cannot be written.
        Nothing is written."""
        self.ensure_one()
        prepared = self.env["insurance.notify.message"]._prepare_queue(
            self, self._queue_items(targets)
        )
        gateway = self._notify_gateway()
        transliterate, max_parts = self._notify_sms_options()
        suffix = self._notify_suffix()
        texts = self._review_texts(
            [vals for vals in prepared.values() if vals["state"] == "queued"]
        )
        for vals in prepared.values():
            vals.update(text=False, sms_parts=0, cost=0.0, render_error=False, too_long=False)
            if vals["state"] != "queued":
                continue
            text = texts.get(vals["res_id"])
            if text is None:
                vals["render_error"] = True
            elif vals["channel"] == "sms":
                analysis = sms.analyze(text + suffix, transliterate=transliterate)
                vals.update(
                    text=analysis.text,
                    sms_parts=analysis.parts,
                    cost=analysis.parts * gateway.cost_per_part,
                    too_long=bool(max_parts and analysis.parts > max_parts),
                )
            else:
                vals["text"] = text
        return prepared

    def _review_texts(self, vals_list):
        """res_id -> the SMS body or e-mail subject the dispatcher will write
        (the template in the client's language and timezone, else the text
        typed on the send), or None when it cannot be written."""
        free = self._notify_free_text(self.env["insurance.notify.message"])
        template = self.sms_template_id if self.channel == "sms" else self.mail_template_id
        if not template:
            if self.channel == "email":
                free = self.subject or free
            return {vals["res_id"]: free or None for vals in vals_list}
        field = "body" if self.channel == "sms" else "subject"
        texts = {}
        by_timezone = {}
        for vals in vals_list:
            by_timezone.setdefault(vals["timezone"] or "UTC", []).append(vals["res_id"])
        for timezone, res_ids in by_timezone.items():
            try:
                rendered = template.with_context(tz=timezone)._render_field(
                    field, res_ids, compute_lang=True
                )
            except Exception:  # noqa: BLE001 - the review shows it; the dispatcher fails it
                _logger.info("Template %s cannot be rendered for a review", template.id)
                texts.update(dict.fromkeys(res_ids))
                continue
            texts.update({res_id: rendered[res_id] or "" for res_id in res_ids})
        return texts

    def _resume_messages(self):
        """Queue again what STOP cancelled before it left, under the same keys
        (a message never becomes two); return them. What lost its point since
        (consent withdrawn, reminded meanwhile) is skipped with its reason."""
        self.ensure_one()
        Message = self.env["insurance.notify.message"].sudo()
        stopped = Message.search(
            [
                ("batch_id", "=", self.id),
                ("state", "=", "cancelled"),
                ("reason_code", "=", "stopped"),
                ("sent_at", "=", False),
                ("provider_ref", "=", False),
            ]
        )
        if not stopped:
            return stopped
        prepared = Message._prepare_queue(
            self,
            self._queue_items(
                [
                    (m.res_id, m.partner_id.id, m.policy_id.id or None, m.event_date or None)
                    for m in stopped
                ]
            ),
        )
        for message in stopped:
            vals = prepared.get(message.key)
            if vals:
                message.write({field: vals[field] for field in RESUMED_FIELDS})
        return stopped
