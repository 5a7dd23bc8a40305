"""Kept totals of the effectiveness report, so its pivot reads days, not messages.

The report (``insurance.notify.effectiveness``) is one row a message: on five
million messages its pivot would read five million rows each time a broker
opens it. This model is the same figures summed per rule and day over the
report's dimensions, kept in ``insurance_notify_effectiveness_store``.

Totals go stale when a message, the policy it names (insurer, product,
broker) or its rule (event) changes. Statement-level triggers note the (rule,
day) pairs such a change touches in ``insurance_notify_effectiveness_dirty``,
in the same transaction, whoever writes (the ORM, an import, SQL). The model
reads the kept totals of the clean days and sums the dirty days afresh from
the messages, through the (rule, day) index: the figures are always those
of the messages, whenever the totals were last kept. The daily outcome job
keeps the dirty days' totals again (:meth:`_refresh`).

The dirty table has no unique key on purpose: a trigger only inserts, so
concurrent writers never wait on one another or fail to serialize; the
refresh deletes the rows its snapshot saw, and a pair marked meanwhile
stays dirty for the next one.
"""

from odoo import api, fields, models
from odoo.tools import SQL

STORE_TABLE = "insurance_notify_effectiveness_store"
DIRTY_TABLE = "insurance_notify_effectiveness_dirty"
MARK_FUNCTION = "insurance_notify_effectiveness_mark"
DAY_INDEX = "insurance_notify_message_rule_day_index"

# The day a message counts on (the report's date); the index is on it.
MESSAGE_DAY = "COALESCE(m.sent_at, m.scheduled_at, m.create_date)::date"

# The report's dimensions, as the kept table's columns (and this model's fields).
DIMENSIONS = (
    "company_id", "rule_id", "event_type", "channel", "offset", "variant",
    "experiment_group", "outcome", "insurer_id", "product_id", "user_id", "date",
)  # fmt: skip
MEASURES = (
    "message_count", "sent_count", "delivered_count", "control_count", "converted_count",
    "control_converted_count", "known_sent_count", "known_control_count", "days_sum",
    "days_count", "sms_parts", "cost",
)  # fmt: skip
COLUMNS = ", ".join(f'"{name}"' for name in (*DIMENSIONS, *MEASURES))

# The totals of some (rule, day) pairs' messages, grouped by every dimension:
# ``{source}`` names the messages ``m`` (and the pairs ``d``), ``{match}`` ties them.
FRESH_TOTALS = f"""
    SELECT m.company_id, m.rule_id, r.event_type, m.channel, m."offset", m.variant,
           g.grp, m.outcome, p.insurer_id, p.product_id, p.user_id, {MESSAGE_DAY},
           count(*)::int,
           count(*) FILTER (WHERE g.grp = 'sent')::int,
           count(*) FILTER (WHERE m.state = 'delivered')::int,
           count(*) FILTER (WHERE g.grp = 'control')::int,
           count(*) FILTER (WHERE g.grp = 'sent' AND m.outcome = 'converted')::int,
           count(*) FILTER (WHERE g.grp = 'control' AND m.outcome = 'converted')::int,
           count(*) FILTER (WHERE g.grp = 'sent'
                                  AND m.outcome IN ('converted', 'not_converted'))::int,
           count(*) FILTER (WHERE g.grp = 'control'
                                  AND m.outcome IN ('converted', 'not_converted'))::int,
           COALESCE(sum(m.outcome_days) FILTER (WHERE m.outcome = 'converted'), 0)::int,
           count(m.outcome_days) FILTER (WHERE m.outcome = 'converted')::int,
           COALESCE(sum(m.sms_parts) FILTER (WHERE g.grp = 'sent'), 0)::int,
           COALESCE(sum(COALESCE(m.cost, 0)) FILTER (WHERE g.grp = 'sent'), 0)::float
      FROM {{source}}
      JOIN insurance_notify_rule r ON r.id = m.rule_id
      LEFT JOIN insurance_policy p ON p.id = m.policy_id
     CROSS JOIN LATERAL (
           SELECT CASE WHEN m.state IN ('sent', 'delivered') THEN 'sent'
                       WHEN m.reason_code = 'control_group' THEN 'control'
                       ELSE 'other' END AS grp
     ) g
     WHERE m.outcome <> 'not_applicable' AND {{match}}
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
"""

# Marks the (rule, day) pairs a statement touches. One function for the three
# tables; the transition tables are new_rows and old_rows.
MARK_BODY = f"""
BEGIN
    IF TG_TABLE_NAME = 'insurance_notify_message' THEN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO {DIRTY_TABLE} (rule_id, day)
            SELECT DISTINCT m.rule_id, {MESSAGE_DAY} FROM new_rows m WHERE m.rule_id IS NOT NULL;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO {DIRTY_TABLE} (rule_id, day)
            SELECT DISTINCT m.rule_id, {MESSAGE_DAY} FROM old_rows m WHERE m.rule_id IS NOT NULL;
        ELSE
            INSERT INTO {DIRTY_TABLE} (rule_id, day)
            SELECT m.rule_id, {MESSAGE_DAY} FROM new_rows m WHERE m.rule_id IS NOT NULL
             UNION
            SELECT m.rule_id, {MESSAGE_DAY} FROM old_rows m WHERE m.rule_id IS NOT NULL;
        END IF;
    ELSIF TG_TABLE_NAME = 'insurance_policy' THEN
        -- Only a change of what the report groups by (most writes change none).
        INSERT INTO {DIRTY_TABLE} (rule_id, day)
        SELECT DISTINCT m.rule_id, {MESSAGE_DAY}
          FROM insurance_notify_message m
         WHERE m.rule_id IS NOT NULL
           AND m.policy_id IN (SELECT id FROM (
                   SELECT id, insurer_id, product_id, user_id FROM new_rows
                   EXCEPT SELECT id, insurer_id, product_id, user_id FROM old_rows) changed);
    ELSE
        INSERT INTO {DIRTY_TABLE} (rule_id, day)
        SELECT DISTINCT m.rule_id, {MESSAGE_DAY}
          FROM insurance_notify_message m
         WHERE m.rule_id IN (SELECT id FROM (
                   SELECT id, event_type FROM new_rows
                   EXCEPT SELECT id, event_type FROM old_rows) changed);
    END IF;
    RETURN NULL;
END
"""

# table -> the statements whose rows its trigger reads
TRIGGERS = {
    "insurance_notify_message": ("INSERT", "UPDATE", "DELETE"),
    "insurance_policy": ("UPDATE",),
    "insurance_notify_rule": ("UPDATE",),
}
REFERENCING = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
    "DELETE": "OLD TABLE AS old_rows",
}


# The report's rows: the kept totals of the clean days, and the dirty days
# summed afresh one pair at a time (LATERAL: an index scan each, whatever the
# planner guesses of the dirty table).
TABLE_QUERY = f"""
    SELECT 0 AS id, s.* FROM (
        SELECT {COLUMNS} FROM {STORE_TABLE} s
         WHERE NOT EXISTS (SELECT FROM {DIRTY_TABLE} d
                            WHERE d.rule_id = s.rule_id AND d.day = s.date)
         UNION ALL
        SELECT f.* FROM (SELECT DISTINCT rule_id, day FROM {DIRTY_TABLE}) d
         CROSS JOIN LATERAL ({
    FRESH_TOTALS.format(
        source="insurance_notify_message m",
        match=f"m.rule_id = d.rule_id AND {MESSAGE_DAY} = d.day",
    )
}) f
    ) s
"""  # noqa: S608 - constants of this module

_MEASURE_COLUMNS = ", ".join(
    f'"{name}" {"float" if name == "cost" else "integer"} NOT NULL DEFAULT 0' for name in MEASURES
)
CREATE_TABLES = f"""
    CREATE TABLE IF NOT EXISTS {STORE_TABLE} (
        company_id integer, rule_id integer, event_type varchar, channel varchar,
        "offset" integer, variant varchar, experiment_group varchar, outcome varchar,
        insurer_id integer, product_id integer, user_id integer, "date" date,
        {_MEASURE_COLUMNS}
    );
    CREATE INDEX IF NOT EXISTS {STORE_TABLE}_rule_date_index ON {STORE_TABLE} (rule_id, "date");
    CREATE TABLE IF NOT EXISTS {DIRTY_TABLE} (rule_id integer NOT NULL, day date);
    CREATE INDEX IF NOT EXISTS {DIRTY_TABLE}_rule_day_index ON {DIRTY_TABLE} (rule_id, day);
    CREATE INDEX IF NOT EXISTS {DAY_INDEX}
        ON insurance_notify_message (rule_id, ({MESSAGE_DAY.replace("m.", "")}))
     WHERE rule_id IS NOT NULL;
    CREATE OR REPLACE FUNCTION {MARK_FUNCTION}() RETURNS trigger
        LANGUAGE plpgsql AS $mark${MARK_BODY}$mark$;
""" + "".join(
    f"""
    DROP TRIGGER IF EXISTS {table}_effectiveness_{operation.lower()} ON {table};
    CREATE TRIGGER {table}_effectiveness_{operation.lower()} AFTER {operation} ON {table}
        REFERENCING {REFERENCING[operation]}
        FOR EACH STATEMENT EXECUTE FUNCTION {MARK_FUNCTION}();
    """
    for table, operations in TRIGGERS.items()
    for operation in operations
)

MARK_HISTORY = f"""
    INSERT INTO {DIRTY_TABLE} (rule_id, day)
    SELECT DISTINCT m.rule_id, {MESSAGE_DAY}
      FROM insurance_notify_message m WHERE m.rule_id IS NOT NULL
"""  # noqa: S608 - constants of this module

# One refresh at a time (readers do not wait); the planner's guess of the
# dirty table decides between the index and one pass over the messages.
REFRESH_LOCK = f"LOCK TABLE {STORE_TABLE} IN EXCLUSIVE MODE; ANALYZE {DIRTY_TABLE}"
# Sub-statements of one statement share its snapshot: the delete sees none of
# the rows the insert adds, and a pair marked after the snapshot stays dirty.
REFRESH = f"""
    WITH touched AS (SELECT DISTINCT rule_id, day FROM {DIRTY_TABLE}),
    cleared AS (
        DELETE FROM {DIRTY_TABLE} x USING touched t
         WHERE x.rule_id = t.rule_id AND x.day = t.day
    ),
    gone AS (
        DELETE FROM {STORE_TABLE} s USING touched t
         WHERE s.rule_id = t.rule_id AND s.date = t.day
    ),
    kept AS (
        INSERT INTO {STORE_TABLE} ({COLUMNS}) {
    FRESH_TOTALS.format(
        source="touched d JOIN insurance_notify_message m "
        f"ON m.rule_id = d.rule_id AND {MESSAGE_DAY} = d.day",
        match="TRUE",
    )
} RETURNING 1
    )
    SELECT (SELECT count(*) FROM touched), (SELECT count(*) FROM kept)
"""  # noqa: S608 - constants of this module


class InsuranceNotifyEffectivenessSummary(models.Model):
    _name = "insurance.notify.effectiveness.summary"
    _description = "Reminder Effectiveness Totals"
    _auto = False
    _order = "date desc"
    _rec_name = "rule_id"

    company_id = fields.Many2one("res.company", readonly=True)
    rule_id = fields.Many2one("insurance.notify.rule", readonly=True)
    event_type = fields.Selection(
        selection=lambda self: self.env["insurance.notify.rule"]._fields["event_type"].selection,
        readonly=True,
    )
    channel = fields.Selection(
        selection=lambda self: (
            self.env["insurance.notify.effectiveness"]._fields["channel"].selection
        ),
        readonly=True,
    )
    offset = fields.Integer(string="Days Before", readonly=True, aggregator=None)
    variant = fields.Selection([("a", "A"), ("b", "B")], readonly=True)
    experiment_group = fields.Selection(
        [("sent", "Reminded"), ("control", "Control group"), ("other", "Not sent")],
        string="Group",
        readonly=True,
    )
    outcome = fields.Selection(
        selection=lambda self: self.env["insurance.notify.message"]._fields["outcome"].selection,
        readonly=True,
    )
    insurer_id = fields.Many2one("res.partner", readonly=True)
    product_id = fields.Many2one("insurance.product", readonly=True)
    user_id = fields.Many2one("res.users", string="Broker", readonly=True)
    date = fields.Date(readonly=True)

    message_count = fields.Integer(string="Messages", readonly=True)
    sent_count = fields.Integer(string="Sent", readonly=True)
    delivered_count = fields.Integer(string="Delivered", readonly=True)
    control_count = fields.Integer(string="Control", readonly=True)
    converted_count = fields.Integer(string="Converted (sent)", readonly=True)
    control_converted_count = fields.Integer(string="Converted (control)", readonly=True)
    known_sent_count = fields.Integer(string="Sent, Outcome Known", readonly=True)
    known_control_count = fields.Integer(string="Control, Outcome Known", readonly=True)
    days_sum = fields.Integer(string="Days to Conversion (sum)", readonly=True)
    days_count = fields.Integer(string="Conversions with Days", readonly=True)
    sms_parts = fields.Integer(string="SMS Parts", readonly=True)
    cost = fields.Float(readonly=True)

    @property
    def _table_query(self):
        return SQL(TABLE_QUERY)

    def init(self):
        cr = self.env.cr
        cr.execute("SELECT to_regclass(%s) IS NULL", [STORE_TABLE])
        (new,) = cr.fetchone()
        cr.execute(CREATE_TABLES)
        if new:
            # A database with history (an upgrade): every day of it is to be
            # summed once; the upgrade's migration keeps the totals.
            cr.execute(MARK_HISTORY)

    @api.model
    def _refresh(self):
        """Keep the totals of the dirty days again. Two queries, however
        many days and messages: the pivot then reads kept totals only.
        Returns how many (rule, day) pairs were summed."""
        self.env.flush_all()
        self.env.cr.execute(REFRESH_LOCK)
        self.env.cr.execute(REFRESH)
        pairs, _rows = self.env.cr.fetchone()
        return pairs
