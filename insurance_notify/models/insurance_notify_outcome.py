"""Did the reminder work? The outcome of every message, settled set-based.

An abstract model inherited by ``insurance.notify.message`` (beside the
dispatcher and the composer). What counts as converted is data: each event
source (``notify_event_sources``) says in SQL on which day the client did what
the reminder asked for (renewed, paid, passed the inspection, extended the
consent). One UPDATE per event type settles every pending message of that type
whatever their number; the documents' write hooks run the same statements
restricted to the documents just changed, so an outcome is set the moment the
event happens and the daily cron settles the rest (a deadline passed, data
imported past the ORM).

A message's outcome does not depend on its state: a sent reminder and a
control-group message (never sent) are measured alike, which is what makes
the comparison honest. The report decides which states to compare.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

DEFAULT_GRACE_DAYS = 30
# When the daily job last ran (the database's clock, as write_date is): it
# re-reads only the documents changed since, less a margin for transactions
# that were open across its run.
SETTLED_AT_PARAM = "insurance_notify.outcomes_settled_at"
# When it last re-read every pending message: once a week, for documents
# changed past the ORM without their write date.
FULL_SETTLE_PARAM = "insurance_notify.outcomes_full_settled_at"
CHANGED_MARGIN = timedelta(days=1)
FULL_SETTLE_EVERY = timedelta(days=7)


class InsuranceNotifyOutcome(models.AbstractModel):
    _name = "insurance.notify.outcome"
    _description = "Notification Outcome"

    outcome = fields.Selection(
        [
            ("pending", "Pending"),
            ("converted", "Converted"),
            ("not_converted", "Not converted"),
            ("not_applicable", "Not applicable"),
        ],
        default="pending",
        required=True,
        index=True,
        readonly=True,
        help="Converted: the client did what the reminder asked (renewed, paid, passed "
        "the inspection, extended the consent) by the event date plus the company's "
        "grace period. Not converted: the grace period passed first. Birthday wishes, "
        "bulk sends and typed messages ask for nothing measurable.",
    )
    outcome_date = fields.Date(readonly=True, help="When the outcome was reached.")
    outcome_days = fields.Integer(
        string="Days to Outcome",
        readonly=True,
        aggregator="avg",
        help="Days from the message (sent, or recorded for the control group) to its outcome.",
    )

    def init(self):
        super().init()
        if self._abstract:
            return
        # The settle job reads only pending messages, a small share of the
        # history once it is decided; by model, as each statement does.
        create_index(
            self.env.cr,
            "insurance_notify_message_pending_index",
            self._table,
            ["res_model", "event_date"],
            where="outcome = 'pending'",
        )

    # ------------------------------------------------------------------
    # Settling
    # ------------------------------------------------------------------

    @api.model
    def _settle_outcomes(self, res_model=None, res_ids=None, today=None, since=None):
        """Settle the pending outcomes (of the documents ``res_ids`` of
        ``res_model``, just changed: a write hook; else of every message):
        one statement per event type, whatever the number of messages.
        With ``since`` (a timestamp), only the pending messages that may have
        been decided since are read: their deadline passed, or they, their
        document or what the event source names changed since then.
        Returns how many were settled."""
        today = today or self._today()
        self.env.flush_all()
        restrict = SQL("TRUE")
        # The daily job reads when documents changed from their write and
        # create dates; a write hook knows it: today, by the one clock.
        days = {"changed": "d.write_date::date", "created": "q.create_date::date"}
        if res_model:
            restrict = SQL("m.res_model = %s AND m.res_id = ANY(%s)", res_model, list(res_ids))
            days = dict.fromkeys(days, f"DATE '{today.isoformat()}'")
        settled = self._settle_not_applicable(restrict)
        sources = self.env["insurance.notify.sender"]._notify_event_sources()
        for event_type, source in sources.items():
            if not source.outcome_on or (res_model and source.model != res_model):
                continue
            settled += self._settle_event_type(
                event_type, source, restrict, today, days, since=None if res_model else since
            )
        if settled:
            self.invalidate_model(["outcome", "outcome_date", "outcome_days"])
        return settled

    @api.model
    def _settle_not_applicable(self, restrict):
        """Pending messages whose sender asks for nothing measurable (no rule,
        or a rule of an event without an outcome) are not applicable."""
        sources = self.env["insurance.notify.sender"]._notify_event_sources()
        measured = [event for event, source in sources.items() if source.outcome_on]
        self.env.cr.execute(
            SQL(
                """
                UPDATE insurance_notify_message m
                   SET outcome = 'not_applicable'
                 WHERE m.outcome = 'pending' AND %s
                   AND (m.rule_id IS NULL OR m.event_date IS NULL
                        OR NOT EXISTS (SELECT 1 FROM insurance_notify_rule r
                                        WHERE r.id = m.rule_id AND r.event_type = ANY(%s)))
                """,
                restrict,
                measured,
            )
        )
        return self.env.cr.rowcount

    @api.model
    def _settle_event_type(self, event_type, source, restrict, today, days, since=None):
        # Deciding is the expensive part (the source's subqueries); a message
        # nothing happened to since the last run is decided only when its
        # deadline passed.
        touched = SQL("TRUE")
        if since is not None:
            touched = SQL(
                "(p.deadline < %(today)s OR p.changed_at >= %(since)s OR d.write_date >= %(since)s"
                " OR %(extra)s)",
                today=today,
                since=since,
                extra=SQL(source.outcome_changed.format(since="%(since)s"), since=since)
                if source.outcome_changed
                else SQL("FALSE"),
            )
        query = SQL(
            """
            WITH p AS (
                SELECT m.id, m.res_id, m.event_date, m.company_id,
                       COALESCE(m.sent_at, m.scheduled_at, m.create_date)::date AS message_on,
                       m.write_date AS changed_at,
                       m.event_date + COALESCE(c.insurance_outcome_grace_days, %(grace)s)
                           AS deadline
                  FROM insurance_notify_message m
                  JOIN insurance_notify_rule r ON r.id = m.rule_id
                  JOIN res_company c ON c.id = m.company_id
                 WHERE m.outcome = 'pending'
                   AND r.event_type = %(event_type)s
                   AND m.res_model = %(model)s
                   AND m.event_date IS NOT NULL
                   AND %(restrict)s
            ), done AS (
                SELECT p.id, p.message_on, p.deadline, %(outcome_on)s AS done_on
                  FROM p %(join)s
                 WHERE %(touched)s
            ), decided AS (
                SELECT id, message_on, done_on <= deadline AS converted,
                       CASE WHEN done_on <= deadline THEN done_on ELSE deadline END AS day
                  FROM done
                 WHERE done_on IS NOT NULL OR deadline < %(today)s
            )
            UPDATE insurance_notify_message m
               SET outcome = CASE WHEN decided.converted THEN 'converted'
                                  ELSE 'not_converted' END,
                   outcome_date = decided.day,
                   outcome_days = GREATEST(decided.day - decided.message_on, 0)
              FROM decided
             WHERE m.id = decided.id
            """,
            grace=DEFAULT_GRACE_DAYS,
            event_type=event_type,
            model=source.model,
            restrict=restrict,
            outcome_on=SQL(source.outcome_on.format(**days)),
            join=SQL(source.outcome_join),
            touched=touched,
            today=today,
        )
        self.env.cr.execute(query)
        return self.env.cr.rowcount

    @api.model
    def _cron_settle_outcomes(self):
        """Daily: settle what the write hooks could not see (a grace period
        passed, documents changed past the ORM). A constant number of
        statements, however many messages wait. Reads only what may have
        changed since its last run, and everything once a week. Then folds
        the day's changes into the effectiveness report's totals (once a
        week: sums them again from the messages)."""
        params = self.env["ir.config_parameter"].sudo()
        params.flush_model()
        # One query, not get_param's cache: the job's query count stays
        # constant (and the database's clock is the one write_date uses).
        self.env.cr.execute(
            """SELECT now() AT TIME ZONE 'UTC',
                      (SELECT value FROM ir_config_parameter WHERE key = %s),
                      (SELECT value FROM ir_config_parameter WHERE key = %s)""",
            [SETTLED_AT_PARAM, FULL_SETTLE_PARAM],
        )
        started, last_value, full_value = self.env.cr.fetchone()
        last = fields.Datetime.to_datetime(last_value or False)
        full = fields.Datetime.to_datetime(full_value or False)
        since = None
        if last and full and started - full < FULL_SETTLE_EVERY:
            since = last - CHANGED_MARGIN
        settled = self.sudo()._settle_outcomes(since=since)
        self.env["insurance.notify.effectiveness.summary"].sudo()._refresh(full=since is None)
        started_value = fields.Datetime.to_string(started)
        if started_value != last_value:
            params.set_param(SETTLED_AT_PARAM, started_value)
        if since is None and started_value != full_value:
            params.set_param(FULL_SETTLE_PARAM, started_value)
        self._commit_progress(done=settled, remaining=0)
        return settled
