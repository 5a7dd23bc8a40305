"""Kept totals of the effectiveness report, so its pivot reads months, not messages.

The report (``insurance.notify.effectiveness``) is one row a message: on five
million messages its pivot would read five million rows each time a broker
opens it. This model holds the same figures summed per month over the
report's dimensions (rule, event, channel, days before, variant, group,
outcome, insurer, product, broker, company): every measure is a sum, so
totals add up.

They stay exact by deltas. Triggers on the messages, the policies (insurer,
product, broker) and the rules (event) write, in the writing transaction and
whoever writes (the ORM, an import, SQL), what a statement changed: minus
the old rows' contribution, plus the new rows', summed per dimension, into
``insurance_notify_effectiveness_delta``. The model reads the kept totals
plus the deltas, so its figures are those of the messages at every moment.
The daily outcome job folds the deltas into the totals (:meth:`_refresh`);
its weekly full pass sums the totals again from the messages.

Deltas are only ever inserted (no key): concurrent writers never wait on one
another; a fold deletes the deltas its snapshot saw, and those written
meanwhile wait for the next one.
"""

from odoo import api, fields, models
from odoo.tools import SQL

STORE_TABLE = "insurance_notify_effectiveness_store"
DELTA_TABLE = "insurance_notify_effectiveness_delta"
TRACK_FUNCTION = "insurance_notify_effectiveness_track"

# The report's dimensions, as the kept tables' columns (and this model's
# fields); ``date`` is the first day of the month.
DIMENSIONS = (
    "company_id", "rule_id", "event_type", "channel", "offset", "variant",
    "experiment_group", "outcome", "insurer_id", "product_id", "user_id", "date",
)  # fmt: skip
# Measure -> its sum over signed message rows ``m`` (sign +1 or -1) of group ``g``.
MEASURES = {
    "message_count": "m.sign",
    "sent_count": "m.sign * (g.grp = 'sent')::int",
    "delivered_count": "m.sign * (m.state = 'delivered')::int",
    "control_count": "m.sign * (g.grp = 'control')::int",
    "converted_count": "m.sign * (g.grp = 'sent' AND m.outcome = 'converted')::int",
    "control_converted_count": "m.sign * (g.grp = 'control' AND m.outcome = 'converted')::int",
    "known_sent_count": (
        "m.sign * (g.grp = 'sent' AND m.outcome IN ('converted', 'not_converted'))::int"
    ),
    "known_control_count": (
        "m.sign * (g.grp = 'control' AND m.outcome IN ('converted', 'not_converted'))::int"
    ),
    "days_sum": "m.sign * CASE WHEN m.outcome = 'converted' THEN m.outcome_days END",
    "days_count": ("m.sign * (m.outcome = 'converted' AND m.outcome_days IS NOT NULL)::int"),
    "sms_parts": "m.sign * CASE WHEN g.grp = 'sent' THEN m.sms_parts END",
    "cost": "m.sign * CASE WHEN g.grp = 'sent' THEN COALESCE(m.cost, 0) END",
}
# The report's groups of messages, and its template variants.
EXPERIMENT_GROUPS = [("sent", "Reminded"), ("control", "Control group"), ("other", "Not sent")]
VARIANTS = [("a", "A"), ("b", "B")]
COLUMNS = ", ".join(f'"{name}"' for name in (*DIMENSIONS, *MEASURES))
_SUMS = {
    name: f"COALESCE(sum({expression}), 0)::{'float' if name == 'cost' else 'int'}"
    for name, expression in MEASURES.items()
}

# What a message row brings, from a row ``x`` of the messages' table.
MESSAGE_COLUMNS = """x.company_id, x.rule_id, x.channel, x."offset", x.variant, x.state,
    x.reason_code, x.outcome, x.outcome_days, x.sms_parts, x.cost,
    COALESCE(x.sent_at, x.scheduled_at, x.create_date)::date AS day"""

# The totals of signed message rows, grouped by every dimension; ``{rows}``
# gives sign, MESSAGE_COLUMNS, event_type, insurer_id, product_id, user_id.
SIGNED_TOTALS = f"""
    SELECT m.company_id, m.rule_id, m.event_type, m.channel, m."offset", m.variant, g.grp,
           m.outcome, m.insurer_id, m.product_id, m.user_id,
           date_trunc('month', m.day::timestamp)::date, {", ".join(_SUMS.values())}
      FROM ({{rows}}) m
     CROSS JOIN LATERAL (
           SELECT CASE WHEN m.state IN ('sent', 'delivered') THEN 'sent'
                       WHEN m.reason_code = 'control_group' THEN 'control'
                       ELSE 'other' END AS grp
     ) g
     WHERE m.rule_id IS NOT NULL AND m.outcome <> 'not_applicable'
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
    HAVING NOT ({" AND ".join(f"{total} = 0" for total in _SUMS.values())})
"""


def _delta(rows):
    return f"INSERT INTO {DELTA_TABLE} ({COLUMNS}) {SIGNED_TOTALS.format(rows=rows)};"


def _message_rows(signed):
    """Signed rows of the messages' transition tables, with their rule's
    event and their policy's insurer, product and broker as they are now."""
    return f"""
        SELECT x.sign, {MESSAGE_COLUMNS}, r.event_type, p.insurer_id, p.product_id, p.user_id
          FROM ({signed}) x
          JOIN insurance_notify_rule r ON r.id = x.rule_id
          LEFT JOIN insurance_policy p ON p.id = x.policy_id
    """


def _policy_rows(signed):
    """The messages of policies whose insurer, product or broker ``signed``
    gives (-1: as they were, +1: as they are)."""
    return f"""
        SELECT c.sign, {MESSAGE_COLUMNS}, r.event_type, c.insurer_id, c.product_id, c.user_id
          FROM ({signed}) c
          JOIN insurance_notify_message x ON x.policy_id = c.id
          JOIN insurance_notify_rule r ON r.id = x.rule_id
    """


_CHANGED_POLICIES = """(SELECT id FROM (
    SELECT id, insurer_id, product_id, user_id FROM new_rows
    EXCEPT SELECT id, insurer_id, product_id, user_id FROM old_rows) changed)"""
_CHANGED_RULES = """(SELECT id FROM (
    SELECT id, event_type FROM new_rows EXCEPT SELECT id, event_type FROM old_rows) changed)"""

# What each trigger writes: a statement's signed rows, summed.
ON_MESSAGE_INSERT = _delta(_message_rows("SELECT 1 AS sign, * FROM new_rows"))
ON_MESSAGE_DELETE = _delta(_message_rows("SELECT -1 AS sign, * FROM old_rows"))
ON_MESSAGE_UPDATE = _delta(
    _message_rows("SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows")
)
ON_POLICY_UPDATE = _delta(
    _policy_rows(
        f"SELECT -1 AS sign, id, insurer_id, product_id, user_id FROM old_rows"
        f" WHERE id IN {_CHANGED_POLICIES}"
        f" UNION ALL SELECT 1, id, insurer_id, product_id, user_id FROM new_rows"
        f" WHERE id IN {_CHANGED_POLICIES}"
    )
)
# Before each deleted policy (a row trigger): its messages, which the foreign
# key deletes next, no longer have its insurer, product and broker, so their
# own deletion takes away the totals they are in by then.
ON_POLICY_DELETE = _delta(
    _policy_rows(
        "SELECT -1 AS sign, OLD.id AS id, OLD.insurer_id AS insurer_id,"
        " OLD.product_id AS product_id, OLD.user_id AS user_id"
        " UNION ALL SELECT 1, OLD.id, NULL, NULL, NULL"
    )
)
ON_RULE_UPDATE = _delta(
    f"""
    SELECT c.sign, {MESSAGE_COLUMNS}, c.event_type, p.insurer_id, p.product_id, p.user_id
      FROM (SELECT -1 AS sign, id, event_type FROM old_rows WHERE id IN {_CHANGED_RULES}
             UNION ALL
            SELECT 1, id, event_type FROM new_rows WHERE id IN {_CHANGED_RULES}) c
      JOIN insurance_notify_message x ON x.rule_id = c.id
      LEFT JOIN insurance_policy p ON p.id = x.policy_id
    """
)

# One function for every trigger; the transition tables are new_rows and old_rows.
TRACK_BODY = f"""
BEGIN
    IF TG_TABLE_NAME = 'insurance_notify_message' THEN
        IF TG_OP = 'INSERT' THEN {ON_MESSAGE_INSERT}
        ELSIF TG_OP = 'DELETE' THEN {ON_MESSAGE_DELETE}
        ELSE {ON_MESSAGE_UPDATE}
        END IF;
    ELSIF TG_TABLE_NAME = 'insurance_policy' AND TG_OP = 'DELETE' THEN
        {ON_POLICY_DELETE}
        RETURN OLD;
    ELSIF TG_TABLE_NAME = 'insurance_policy' THEN
        -- Only a change of what the report groups by (most writes change none):
        -- without one, not a message is read (the planner writes each rule's
        -- last planned day; a join planned before knowing that nothing
        -- changed read the whole history).
        IF EXISTS {_CHANGED_POLICIES} THEN
            {ON_POLICY_UPDATE}
        END IF;
    ELSIF EXISTS {_CHANGED_RULES} THEN
        {ON_RULE_UPDATE}
    END IF;
    RETURN NULL;
END
"""

# trigger name -> (table, timing and event, what it reads)
TRIGGERS = {
    "insurance_notify_message_effectiveness_insert": (
        "insurance_notify_message", "AFTER INSERT",
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    ),
    "insurance_notify_message_effectiveness_update": (
        "insurance_notify_message", "AFTER UPDATE",
        "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT",
    ),
    "insurance_notify_message_effectiveness_delete": (
        "insurance_notify_message", "AFTER DELETE",
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    ),
    "insurance_policy_effectiveness_update": (
        "insurance_policy", "AFTER UPDATE",
        "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT",
    ),
    "insurance_policy_effectiveness_delete": (
        "insurance_policy", "BEFORE DELETE", "FOR EACH ROW",
    ),
    "insurance_notify_rule_effectiveness_update": (
        "insurance_notify_rule", "AFTER UPDATE",
        "REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT",
    ),
}  # fmt: skip

_MEASURE_COLUMNS = ", ".join(
    f'"{name}" {"float" if name == "cost" else "integer"} NOT NULL DEFAULT 0' for name in MEASURES
)
_DIMENSION_COLUMNS = """company_id integer, rule_id integer, event_type varchar,
    channel varchar, "offset" integer, variant varchar, experiment_group varchar,
    outcome varchar, insurer_id integer, product_id integer, user_id integer, "date" date"""
CREATE = f"""
    CREATE TABLE IF NOT EXISTS {STORE_TABLE} ({_DIMENSION_COLUMNS}, {_MEASURE_COLUMNS});
    CREATE INDEX IF NOT EXISTS {STORE_TABLE}_rule_date_index ON {STORE_TABLE} (rule_id, "date");
    CREATE TABLE IF NOT EXISTS {DELTA_TABLE} ({_DIMENSION_COLUMNS}, {_MEASURE_COLUMNS});
    CREATE OR REPLACE FUNCTION {TRACK_FUNCTION}() RETURNS trigger
        LANGUAGE plpgsql AS $track${TRACK_BODY}$track$;
""" + "".join(
    f"""
    DROP TRIGGER IF EXISTS {name} ON {table};
    CREATE TRIGGER {name} {when} ON {table} {reads} EXECUTE FUNCTION {TRACK_FUNCTION}();
    """
    for name, (table, when, reads) in TRIGGERS.items()
)

# The report's rows: the kept totals and the deltas since (every measure adds up).
TABLE_QUERY = f"""
    SELECT 0 AS id, {COLUMNS} FROM {STORE_TABLE}
     UNION ALL
    SELECT 0 AS id, {COLUMNS} FROM {DELTA_TABLE}
"""  # noqa: S608 - constants of this module

# Sub-statements of one statement share its snapshot: the deltas it folds
# are those it deletes, and one written meanwhile waits for the next fold.
FOLD = f"""
    WITH folded AS (DELETE FROM {DELTA_TABLE} RETURNING *),
    months AS (SELECT DISTINCT rule_id, "date" FROM folded),
    kept AS (
        DELETE FROM {STORE_TABLE} s USING months t
         WHERE s.rule_id = t.rule_id AND s."date" = t."date"
        RETURNING s.*
    ),
    summed AS (
        INSERT INTO {STORE_TABLE} ({COLUMNS})
        SELECT {", ".join(f'"{name}"' for name in DIMENSIONS)},
               {", ".join(f'sum("{name}")' for name in MEASURES)}
          FROM (SELECT * FROM kept UNION ALL SELECT * FROM folded) t
         GROUP BY {", ".join(f'"{name}"' for name in DIMENSIONS)}
        HAVING sum(message_count) <> 0
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM folded), (SELECT count(*) FROM summed)
"""  # noqa: S608 - constants of this module
REBUILD = f"""
    WITH folded AS (DELETE FROM {DELTA_TABLE} RETURNING 1),
    kept AS (DELETE FROM {STORE_TABLE} RETURNING 1),
    summed AS (
        INSERT INTO {STORE_TABLE} ({COLUMNS}) {
    SIGNED_TOTALS.format(
        rows=f'''
            SELECT 1 AS sign, {MESSAGE_COLUMNS}, r.event_type, p.insurer_id, p.product_id,
                   p.user_id
              FROM insurance_notify_message x
              JOIN insurance_notify_rule r ON r.id = x.rule_id
              LEFT JOIN insurance_policy p ON p.id = x.policy_id
        '''
    )
}
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM folded), (SELECT count(*) FROM summed)
"""  # noqa: S608 - constants of this module
# One fold at a time; readers do not wait.
LOCK = f"LOCK TABLE {STORE_TABLE} IN EXCLUSIVE MODE"


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
    variant = fields.Selection(VARIANTS, readonly=True)
    experiment_group = fields.Selection(EXPERIMENT_GROUPS, string="Group", readonly=True)
    outcome = fields.Selection(
        selection=lambda self: self.env["insurance.notify.message"]._fields["outcome"].selection,
        readonly=True,
    )
    insurer_id = fields.Many2one("res.partner", readonly=True)
    product_id = fields.Many2one("insurance.product", readonly=True)
    user_id = fields.Many2one("res.users", string="Broker", readonly=True)
    date = fields.Date(string="Month", readonly=True)

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
        self.env.cr.execute(CREATE)

    @api.model
    def _refresh(self, full=False):
        """Fold the deltas into the kept totals (daily), or with ``full`` sum
        the totals again from the messages (weekly, and after an upgrade).
        Two queries, however many messages. Returns how many deltas were
        folded and how many totals were written."""
        self.env.flush_all()
        self.env.cr.execute(LOCK)
        self.env.cr.execute(REBUILD if full else FOLD)
        return self.env.cr.fetchone()
