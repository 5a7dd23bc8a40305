"""Reminder effectiveness: did the reminders work, and what did they change?

A read-only SQL view over the messages of automatic rules, one row a message,
for Odoo's own pivot and graph views. Its figures come from the messages'
outcomes alone (DESIGN invariant 11): the conversion of the reminders sent,
the conversion of the control group (recorded, never sent), and their
difference, the uplift. Sums and averages are the database's; the uplift and
the cost per conversion, which are not an aggregate of rows, are computed
from them per cell in :meth:`read_group`.

A pivot or graph over the report's dimensions reads the kept monthly totals
(``insurance.notify.effectiveness.summary``) instead of every message;
anything else (a client, a policy, a single day, the list) reads the messages.
"""

from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from ..lib.notify_engine import experiment
from .insurance_notify_effectiveness_summary import DIMENSIONS, EXPERIMENT_GROUPS, VARIANTS

# The groupings of the date the kept totals (per month) answer.
MONTHS = ("month", "quarter", "year")

# Averages of these columns are the percentages the uplift is made of.
RATE_FIELDS = ("conversion_sent", "conversion_control")

# An aggregate of this report -> how the kept totals give it: a sum of one
# of their columns, a ratio of two sums (times a factor), or None (computed
# per cell by read_group from the others).
FROM_TOTALS = {
    "__count": ("message_count",),
    "sent_count:sum": ("sent_count",),
    "delivered_count:sum": ("delivered_count",),
    "control_count:sum": ("control_count",),
    "converted_count:sum": ("converted_count",),
    "control_converted_count:sum": ("control_converted_count",),
    "sms_parts:sum": ("sms_parts",),
    "cost:sum": ("cost",),
    "conversion_sent:avg": ("converted_count", "known_sent_count", 100.0),
    "conversion_control:avg": ("control_converted_count", "known_control_count", 100.0),
    "days_to_conversion:avg": ("days_sum", "days_count", 1.0),
    "uplift:avg": None,
    "cost_per_conversion:avg": None,
}


class InsuranceNotifyEffectiveness(models.Model):
    _name = "insurance.notify.effectiveness"
    _description = "Reminder Effectiveness"
    _auto = False
    _order = "date desc"
    _rec_name = "rule_id"

    message_id = fields.Many2one("insurance.notify.message", readonly=True)
    rule_id = fields.Many2one("insurance.notify.rule", readonly=True)
    event_type = fields.Selection(
        selection=lambda self: self.env["insurance.notify.rule"]._fields["event_type"].selection,
        readonly=True,
    )
    company_id = fields.Many2one("res.company", readonly=True)
    channel = fields.Selection(
        [("sms", "SMS"), ("email", "E-mail"), ("whatsapp", "WhatsApp")], readonly=True
    )
    offset = fields.Integer(string="Days Before", readonly=True, aggregator=None)
    variant = fields.Selection(VARIANTS, readonly=True)
    experiment_group = fields.Selection(
        EXPERIMENT_GROUPS,
        string="Group",
        readonly=True,
        help="Reminded: sent or delivered. Control group: kept unsent on purpose. "
        "Not sent: skipped, cancelled or failed for another reason (left out of the "
        "comparison).",
    )
    outcome = fields.Selection(
        selection=lambda self: self.env["insurance.notify.message"]._fields["outcome"].selection,
        readonly=True,
    )
    partner_id = fields.Many2one("res.partner", string="Client", readonly=True)
    policy_id = fields.Many2one("insurance.policy", readonly=True)
    insurer_id = fields.Many2one("res.partner", readonly=True)
    product_id = fields.Many2one("insurance.product", readonly=True)
    user_id = fields.Many2one("res.users", string="Broker", readonly=True)
    date = fields.Date(readonly=True, help="When the reminder was sent (or recorded).")

    sent_count = fields.Integer(string="Sent", readonly=True)
    delivered_count = fields.Integer(string="Delivered", readonly=True)
    control_count = fields.Integer(string="Control", readonly=True)
    converted_count = fields.Integer(string="Converted (sent)", readonly=True)
    control_converted_count = fields.Integer(string="Converted (control)", readonly=True)
    conversion_sent = fields.Float(
        string="Conversion %", readonly=True, aggregator="avg",
        help="Of the reminders sent whose outcome is known, the share that converted.",
    )  # fmt: skip
    conversion_control = fields.Float(
        string="Control Conversion %", readonly=True, aggregator="avg",
        help="Of the control group whose outcome is known, the share that converted.",
    )  # fmt: skip
    uplift = fields.Float(
        string="Uplift (points)", readonly=True, aggregator="avg",
        help="Conversion % of the reminders sent minus that of the control group.",
    )  # fmt: skip
    days_to_conversion = fields.Float(
        string="Days to Conversion", readonly=True, aggregator="avg",
        help="Average days from the reminder to the renewal or payment.",
    )  # fmt: skip
    sms_parts = fields.Integer(string="SMS Parts", readonly=True)
    cost = fields.Float(
        readonly=True,
        help="An SMS: the parts sent times the gateway's cost per part; a WhatsApp message: "
        "the gateway's price for its template's category (an estimate).",
    )
    cost_per_conversion = fields.Float(readonly=True, aggregator="avg")

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT m.id, m.id AS message_id, m.rule_id, r.event_type, m.company_id,
                   m.channel, m."offset", m.variant, m.outcome, m.partner_id, m.policy_id,
                   p.insurer_id, p.product_id, p.user_id,
                   COALESCE(m.sent_at, m.scheduled_at, m.create_date)::date AS date,
                   g.grp AS experiment_group,
                   (g.grp = 'sent')::int AS sent_count,
                   (m.state = 'delivered')::int AS delivered_count,
                   (g.grp = 'control')::int AS control_count,
                   (g.grp = 'sent' AND m.outcome = 'converted')::int AS converted_count,
                   (g.grp = 'control' AND m.outcome = 'converted')::int
                       AS control_converted_count,
                   CASE WHEN g.grp = 'sent' AND m.outcome IN ('converted', 'not_converted')
                        THEN CASE WHEN m.outcome = 'converted' THEN 100.0 ELSE 0.0 END
                   END AS conversion_sent,
                   CASE WHEN g.grp = 'control' AND m.outcome IN ('converted', 'not_converted')
                        THEN CASE WHEN m.outcome = 'converted' THEN 100.0 ELSE 0.0 END
                   END AS conversion_control,
                   NULL::float AS uplift,
                   CASE WHEN m.outcome = 'converted' THEN m.outcome_days END
                       AS days_to_conversion,
                   CASE WHEN g.grp = 'sent' THEN m.sms_parts ELSE 0 END AS sms_parts,
                   CASE WHEN g.grp = 'sent' THEN COALESCE(m.cost, 0) ELSE 0 END AS cost,
                   NULL::float AS cost_per_conversion
              FROM insurance_notify_message m
              JOIN insurance_notify_rule r ON r.id = m.rule_id
              LEFT JOIN insurance_policy p ON p.id = m.policy_id
             CROSS JOIN LATERAL (
                   SELECT CASE WHEN m.state IN ('sent', 'delivered') THEN 'sent'
                               WHEN m.reason_code = 'control_group' THEN 'control'
                               ELSE 'other' END AS grp
             ) g
             WHERE m.outcome <> 'not_applicable'
            """
        )

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None,
                    order=None):  # fmt: skip
        """Grouped by the report's dimensions only, from the kept totals."""
        if not self._totals_answer(domain, groupby, aggregates, having, order):
            return super()._read_group(
                domain, groupby, aggregates, having=having, offset=offset, limit=limit,
                order=order,
            )  # fmt: skip
        self.browse().check_access("read")
        # Totals and deltas that cancel out leave a group of no message.
        wanted = ["message_count:sum"]
        for spec in aggregates:
            for column in (FROM_TOTALS[spec] or ())[:2]:
                if f"{column}:sum" not in wanted:
                    wanted.append(f"{column}:sum")
        totals_order = order and ",".join(
            self._totals_order_term(term) for term in order.split(",")
        )
        rows = self.env["insurance.notify.effectiveness.summary"]._read_group(
            domain, groupby, wanted, having=[("message_count:sum", "!=", 0)] if groupby else (),
            offset=offset, limit=limit, order=totals_order or None,
        )  # fmt: skip
        width = len(groupby)
        result = []
        for row in rows:
            sums = dict(zip(wanted, row[width:], strict=True))
            values = []
            for spec in aggregates:
                recipe = FROM_TOTALS[spec]
                value = None
                if recipe and len(recipe) == 1:
                    value = sums[f"{recipe[0]}:sum"]
                elif recipe:
                    part, whole = (sums[f"{column}:sum"] for column in recipe[:2])
                    value = recipe[2] * part / whole if whole else None
                # What the per-message rows give where there is nothing to sum.
                values.append(self._read_group_empty_value(spec) if value is None else value)
            result.append((*row[:width], *values))
        return result

    @api.model
    def _totals_answer(self, domain, groupby, aggregates, having, order):
        """Whether the kept totals give this grouping: groups, filters and
        order over the report's dimensions (dates by whole months, as the
        totals are kept), aggregates they keep, no having."""
        if having or not aggregates or any(spec not in FROM_TOTALS for spec in aggregates):
            return False
        for spec in groupby:
            name, _colon, granularity = spec.partition(":")
            if name not in DIMENSIONS or (name == "date" and granularity not in MONTHS):
                return False
        for leaf in expression.normalize_domain(domain):
            if expression.is_operator(leaf) or tuple(leaf) in (
                expression.TRUE_LEAF, expression.FALSE_LEAF
            ):  # fmt: skip
                continue
            if not isinstance(leaf[0], str) or leaf[0].split(".")[0] not in DIMENSIONS:
                return False
            if leaf[0] == "date" and not self._whole_months(leaf):
                return False
            if leaf[0].startswith("date."):
                return False
        if order:
            terms = [term.strip().split()[0] for term in order.split(",") if term.strip()]
            return all(
                term in groupby or (FROM_TOTALS.get(term) and len(FROM_TOTALS[term]) == 1)
                for term in terms
            )
        return True

    @api.model
    def _whole_months(self, leaf):
        """Whether a filter on the date keeps or drops whole months (as the
        search view's month, quarter and year filters do)."""
        _name, operator, value = leaf
        if operator in ("=", "!=") and not value:
            return True
        try:
            day = fields.Date.to_date(value)
        except (TypeError, ValueError):
            return False
        if not isinstance(day, date):
            return False
        last = (day + relativedelta(days=1)).day == 1
        return (operator in (">=", "<") and day.day == 1) or (operator in ("<=", ">") and last)

    @api.model
    def _totals_order_term(self, term):
        spec, *direction = term.strip().split()
        recipe = FROM_TOTALS.get(spec)
        if recipe and len(recipe) == 1:
            spec = f"{recipe[0]}:sum"
        return " ".join((spec, *direction))

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        """The uplift and the cost per conversion of each cell, from the cell's
        own conversion rates, costs and conversions."""
        names = {spec.split(":")[0] for spec in fields}
        wanted = {"uplift", "cost_per_conversion"} & names
        extra = []
        if wanted:
            extra = [
                name for name in (*RATE_FIELDS, "cost", "converted_count") if name not in names
            ]
        groups = super().read_group(
            domain, [*fields, *extra], groupby, offset=offset, limit=limit,
            orderby=orderby, lazy=lazy,
        )  # fmt: skip
        for group in groups:
            if "uplift" in wanted:
                sent, control = (group.get(name) for name in RATE_FIELDS)
                known = all(isinstance(rate, float | int) and rate is not False
                            for rate in (sent, control))  # fmt: skip
                group["uplift"] = sent - control if known else False
            if "cost_per_conversion" in wanted:
                converted = group.get("converted_count") or 0
                group["cost_per_conversion"] = (
                    (group.get("cost") or 0) / converted if converted else False
                )
            for name in extra:
                group.pop(name, None)
        return groups

    # ------------------------------------------------------------------
    # The figures a rule's form and the daily report show
    # ------------------------------------------------------------------

    @api.model
    def _figures(self, rules, date_from=None, date_to=None):
        """rule id -> its figures: clients reminded and in the control group,
        their conversions, the uplift with its 95 % interval (per client:
        every reminder of one series shares one outcome), the median days to
        conversion, and the cost. One query for all ``rules``; the caller
        checked the user may read them."""
        filters = [SQL("m.rule_id = ANY(%s)", rules.ids), SQL("m.outcome <> 'not_applicable'")]
        if date_from:
            filters.append(SQL("COALESCE(m.sent_at, m.scheduled_at) >= %s", date_from))
        if date_to:
            filters.append(SQL("COALESCE(m.sent_at, m.scheduled_at) < %s", date_to))
        self.env["insurance.notify.message"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                WITH unit AS (
                    SELECT m.rule_id, m.res_model, m.res_id, m.event_date,
                           bool_or(m.state IN ('sent', 'delivered')) AS sent,
                           bool_or(m.reason_code = 'control_group') AS control,
                           bool_or(m.outcome = 'converted') AS converted,
                           bool_or(m.outcome IN ('converted', 'not_converted')) AS known,
                           min(m.outcome_days) FILTER (WHERE m.outcome = 'converted') AS days,
                           sum(m.cost) FILTER (WHERE m.state IN ('sent', 'delivered')) AS cost,
                           count(*) FILTER (WHERE m.state IN ('sent', 'delivered')) AS messages
                      FROM insurance_notify_message m
                     WHERE %s
                     GROUP BY m.rule_id, m.res_model, m.res_id, m.event_date
                )
                SELECT rule_id,
                       count(*) FILTER (WHERE sent AND known),
                       count(*) FILTER (WHERE sent AND converted),
                       count(*) FILTER (WHERE control AND NOT sent AND known),
                       count(*) FILTER (WHERE control AND NOT sent AND converted),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
                           FILTER (WHERE sent AND converted),
                       COALESCE(sum(cost), 0),
                       COALESCE(sum(messages), 0),
                       count(*) FILTER (WHERE sent AND NOT known)
                  FROM unit
                 GROUP BY rule_id
                """,
                SQL(" AND ").join(filters),
            )
        )
        figures = {}
        for rule_id, sent, sent_conv, control, control_conv, days, cost, messages, pending in rows:
            figures[rule_id] = {
                "uplift": experiment.uplift(sent, sent_conv, control, control_conv),
                "median_days": days,
                "cost": cost,
                "messages": messages,
                "pending": pending,
                "cost_per_conversion": cost / sent_conv if sent_conv else None,
            }
        return figures
