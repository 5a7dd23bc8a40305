"""A bulk send's messages: which records it reaches, and the messages it queues."""

from datetime import timedelta

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .insurance_notify_sender import QueueItem
from .notify_event_sources import SOURCES, event_filters

# Clients with a valid policy, in the columns of the event sources, so that the
# same filters apply; one row per client.
ALL_CLIENTS = """
    SELECT DISTINCT ON (p.partner_id) p.partner_id AS res_id, p.partner_id,
           NULL::int AS policy_id, NULL::date AS event_date, p.company_id, p.insurer_id,
           p.product_id, p.user_id, p.sales_channel, p.state AS policy_state, NULL AS skip
      FROM insurance_policy p
      JOIN res_partner r ON r.id = p.partner_id
     WHERE r.active AND NOT COALESCE(r.is_insurer, FALSE) AND p.state = 'valid'
"""

ALREADY_REMINDED_WITHIN = timedelta(hours=24)


class InsuranceNotifyBatch(models.Model):
    _inherit = "insurance.notify.batch"

    # ------------------------------------------------------------------
    # Selection
    # ------------------------------------------------------------------

    def _select_targets(self):
        """[(res_id, partner_id, policy_id, event_date)] this send is about."""
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
            events = SQL(ALL_CLIENTS)
        else:
            today = self.env["insurance.notify.message"]._today()
            events = SQL(SOURCES[self.target].events.format(year=today.year))
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
        reminded = self._already_reminded([target[0] for target in targets])
        items = [
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
        return self.env["insurance.notify.message"].sudo()._enqueue(self, items)

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
                self.id,
                since,
            )
        )
        return {res_id for (res_id,) in rows}
