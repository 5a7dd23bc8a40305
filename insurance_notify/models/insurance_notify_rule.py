from collections import namedtuple
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..lib.notify_engine import experiment, schedule
from .insurance_notify_sender import QueueItem
from .notify_event_sources import event_filters

# One event a rule is due to remind of, as the planner's query yields it.
Occurrence = namedtuple(
    "Occurrence", "res_id partner_id policy_id offset event_date policy_state skip"
)


class InsuranceNotifyRule(models.Model):
    _name = "insurance.notify.rule"
    _description = "Automatic Notification Rule"
    _inherit = ["mail.thread", "insurance.notify.sender"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    event_type = fields.Selection(
        [
            ("policy_expiry", "Policy expiry"),
            ("installment_due", "Installment due"),
            ("installment_overdue", "Installment overdue"),
            ("inspection_expiry", "Technical inspection expiry"),
            ("consent_renewal", "GDPR consent renewal"),
            ("birthday", "Birthday"),
        ],
        required=True,
        default="policy_expiry",
        tracking=True,
    )
    channel = fields.Selection(
        [
            ("sms", "SMS"),
            ("email", "E-mail"),
            ("sms_email", "SMS, else e-mail"),
            ("whatsapp", "WhatsApp"),
            ("whatsapp_sms", "WhatsApp, else SMS"),
        ],
        required=True,
        default="sms",
        tracking=True,
        help="SMS, else e-mail: an e-mail goes to clients with no usable mobile or no SMS consent. "
        "WhatsApp sends the approved WhatsApp template of the rule's event in the client's "
        "language to clients who consented to WhatsApp; WhatsApp, else SMS sends the others "
        "an SMS.",
    )
    offsets = fields.Char(
        string="Days",
        required=True,
        default="21,14,7",
        tracking=True,
        help="Days before the event (after the due date for overdue installments), "
        "comma-separated: 21,14,7 sends three reminders.",
    )
    consent_mode = fields.Selection(default="none", tracking=True)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="E-mail Template",
        domain="[('model', '=', res_model)]",
        tracking=True,
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain="[('model', '=', res_model)]",
        tracking=True,
    )
    # Measuring: a control group and a second template, both drawn by a
    # stable hash of the occurrence (notify_engine.experiment).
    control_percent = fields.Integer(
        string="Control Group (%)",
        default=0,
        tracking=True,
        help="This share of the rule's reminders is recorded but never sent (skipped: "
        "control group), chosen at random once per document, so the effectiveness "
        "report can tell what the reminder changed. At most 50 %.",
    )
    sms_template_b_id = fields.Many2one(
        "sms.template",
        string="SMS Template B",
        domain="[('model', '=', res_model)]",
        tracking=True,
        help="A second text to compare with the first: a share of the reminders "
        "(Variant B Share) is sent with it.",
    )
    mail_template_b_id = fields.Many2one(
        "mail.template",
        string="E-mail Template B",
        domain="[('model', '=', res_model)]",
        tracking=True,
    )
    variant_b_percent = fields.Integer(
        string="Variant B Share (%)",
        default=50,
        tracking=True,
        help="The share of the reminders sent with template B when the rule has one.",
    )
    res_model = fields.Char(compute="_compute_res_model")
    gateway_id = fields.Many2one(check_company=True)
    policy_scope = fields.Selection(
        [("valid", "Valid policies"), ("valid_draft", "Valid and draft policies")],
        string="Policies",
        required=True,
        default="valid",
        help="Reminders about other policies are recorded as skipped, with the reason.",
    )
    sales_channel = fields.Selection(
        # The policy's choices with their labels in the user's language: a callable
        # selection gets no translated ir.model.fields.selection rows of its own.
        selection=lambda self: (
            self.env["insurance.policy"]._fields["sales_channel"]._description_selection(self.env)
        ),
        help="Only policies sold through this channel; empty for all.",
    )
    insurer_ids = fields.Many2many(
        "res.partner", string="Insurers", domain=[("is_insurer", "=", True)], check_company=True
    )
    product_ids = fields.Many2many("insurance.product", string="Products")
    user_ids = fields.Many2many("res.users", string="Brokers", check_company=True)
    last_planned_date = fields.Date(
        readonly=True,
        copy=False,
        help="The last day whose reminders the planner has created.",
    )
    notify_message_ids = fields.One2many("insurance.notify.message", "rule_id", readonly=True)
    overlap_rule_ids = fields.Many2many(
        "insurance.notify.rule",
        string="Overlapping Rules",
        compute="_compute_overlap_rule_ids",
        help="Active rules of the same company sending the same event on the same channel "
        "to clients this rule reaches too.",
    )

    # The rule's own figures (Reminder effectiveness), for its form.
    effect_sent = fields.Integer(string="Clients Reminded", compute="_compute_effect")
    effect_control = fields.Integer(string="Clients in Control", compute="_compute_effect")
    effect_conversion = fields.Float(string="Conversion %", compute="_compute_effect")
    effect_control_conversion = fields.Float(
        string="Control Conversion %", compute="_compute_effect"
    )
    effect_uplift = fields.Char(
        string="Uplift",
        compute="_compute_effect",
        help="Conversion of the clients reminded minus the control group's, in "
        "percentage points, with its 95 % confidence interval.",
    )
    effect_too_small = fields.Boolean(compute="_compute_effect")
    effect_median_days = fields.Float(string="Median Days to Conversion", compute="_compute_effect")

    _sql_constraints = [
        (
            "control_percent_range",
            "CHECK (control_percent BETWEEN 0 AND 50)",
            "The control group is between 0 and 50 % of the reminders.",
        ),
        (
            "variant_b_percent_range",
            "CHECK (variant_b_percent BETWEEN 0 AND 100)",
            "The share of variant B is between 0 and 100 %.",
        ),
    ]

    POLICY_SCOPES = {"valid": ["valid"], "valid_draft": ["valid", "draft"]}

    def _compute_effect(self):
        rules = self.filtered("id")
        figures = self.env["insurance.notify.effectiveness"].sudo()._figures(rules) if rules else {}
        for rule in self:
            figure = figures.get(rule.id)
            lift = figure and figure["uplift"]
            rule.effect_sent = lift.treated if lift else 0
            rule.effect_control = lift.control if lift else 0
            rule.effect_conversion = 100 * (lift.rate_treated or 0) if lift else 0
            rule.effect_control_conversion = 100 * (lift.rate_control or 0) if lift else 0
            rule.effect_too_small = not lift or lift.too_small
            rule.effect_median_days = (figure and figure["median_days"]) or 0
            rule.effect_uplift = (
                self.env._(
                    "%(uplift)+.1f points (95 %% interval %(low)+.1f to %(high)+.1f)",
                    uplift=100 * lift.uplift,
                    low=100 * lift.low,
                    high=100 * lift.high,
                )
                if lift and lift.uplift is not None
                else False
            )

    def action_view_effectiveness(self):
        """This rule's reminder effectiveness report."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_notify_effectiveness"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {"search_default_group_experiment": 0}
        return action

    @api.depends("event_type")
    def _compute_res_model(self):
        sources = self._notify_event_sources()
        for rule in self:
            source = sources.get(rule.event_type)
            rule.res_model = source.model if source else False

    @api.depends(
        "active", "company_id", "event_type", "channel", "insurer_ids", "product_ids",
        "user_ids", "sales_channel",
    )  # fmt: skip
    def _compute_overlap_rule_ids(self):
        others = self.search(
            [
                ("active", "=", True),
                ("company_id", "in", self.company_id.ids),
                ("event_type", "in", self.mapped("event_type")),
            ]
        )
        for rule in self:
            rule.overlap_rule_ids = others.filtered(
                lambda other, rule=rule: other._origin != rule._origin and rule._overlaps(other)
            )

    def _overlaps(self, other):
        """Whether ``other`` reminds some of the same clients of the same event
        on the same channel: each filter is empty on one side or shares a value."""
        self.ensure_one()
        if not self.active or (other.company_id, other.event_type) != (
            self.company_id,
            self.event_type,
        ):
            return False
        if not set(self._notify_channels()) & set(other._notify_channels()):
            return False
        for name in ("insurer_ids", "product_ids", "user_ids"):
            if self[name] and other[name] and not self[name] & other[name]:
                return False
        return not (
            self.sales_channel and other.sales_channel and self.sales_channel != other.sales_channel
        )

    @api.constrains("offsets")
    def _check_offsets(self):
        for rule in self:
            rule._parsed_offsets()

    @api.constrains("control_percent", "variant_b_percent")
    def _check_experiment(self):
        for rule in self:
            if not 0 <= rule.control_percent <= 50:
                raise ValidationError(
                    self.env._("The control group is between 0 and 50 % of the reminders.")
                )
            if not 0 <= rule.variant_b_percent <= 100:
                raise ValidationError(self.env._("The share of variant B is between 0 and 100 %."))

    @api.constrains(
        "sms_template_id", "mail_template_id", "sms_template_b_id", "mail_template_b_id",
        "event_type",
    )  # fmt: skip
    def _check_template_model(self):
        for rule in self:
            for template in (
                rule.sms_template_id,
                rule.mail_template_id,
                rule.sms_template_b_id,
                rule.mail_template_b_id,
            ):
                if template:
                    rule._check_one_template(template)

    @api.constrains("channel", "sms_template_id", "mail_template_id")
    def _check_templates_for_channel(self):
        for rule in self:
            if rule.channel in ("sms", "sms_email", "whatsapp_sms") and not rule.sms_template_id:
                raise ValidationError(self.env._("An SMS rule needs an SMS template."))
            if rule.channel in ("email", "sms_email") and not rule.mail_template_id:
                raise ValidationError(self.env._("An e-mail rule needs an e-mail template."))

    def _check_one_template(self, template):
        for rule in self:
            if template.model != rule.res_model:
                raise ValidationError(
                    self.env._(
                        "The template %(template)s is written for %(model)s records, "
                        "but this rule sends about %(expected)s records.",
                        template=template.name,
                        model=template.model,
                        expected=rule.res_model,
                    )
                )

    def action_preview_sms(self):
        self.ensure_one()
        if not self.sms_template_id:
            raise ValidationError(self.env._("Choose an SMS template first."))
        return self.sms_template_id.with_context(
            default_rule_id=self.id
        )._action_insurance_preview()

    @api.onchange("offsets")
    def _onchange_offsets(self):
        if self.offsets:
            self.offsets = schedule.format_offsets(self._parsed_offsets())

    def _parsed_offsets(self):
        try:
            return schedule.parse_offsets(self.offsets or "")
        except schedule.InvalidOffsets as error:
            raise ValidationError(self._offsets_error_message(error)) from None

    @api.model
    def _offsets_error_message(self, error):
        messages = {
            "empty": self.env._("Enter at least one number of days, e.g. 21,14,7."),
            "not_a_number": self.env._(
                "“%(token)s” is not a number of days. Use whole numbers separated "
                "by commas, e.g. 21,14,7.",
                token=error.token,
            ),
            "negative": self.env._(
                "Days before the event cannot be negative (“%(token)s”).", token=error.token
            ),
            "too_large": self.env._("“%(token)s” days is too far ahead.", token=error.token),
        }
        return messages[error.reason]

    # ------------------------------------------------------------------
    # Planner
    # ------------------------------------------------------------------

    # Changing one of these changes what is due: the rule plans today again.
    PLANNING_FIELDS = frozenset(
        {
            "active",
            "event_type",
            "channel",
            "offsets",
            "policy_scope",
            "sales_channel",
            "consent_mode",
            "control_percent",
            "insurer_ids",
            "product_ids",
            "user_ids",
            "company_id",
        }
    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_history(self):
        """The history names its rule: a rule that planned messages is archived,
        not deleted."""
        used = self.filtered("notify_message_ids")
        if used:
            raise UserError(
                self.env._(
                    "The automatic notification “%(rule)s” has a history of messages: "
                    "archive it instead of deleting it.",
                    rule=used[0].name,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        rules._plan_today()
        return rules

    def write(self, vals):
        result = super().write(vals)
        if self.PLANNING_FIELDS & vals.keys():
            self._plan_today()
        return result

    def _plan_today(self):
        """A new or changed rule works the same day (the systems brokers leave
        made them send that day's reminders by hand)."""
        messages = self.env["insurance.notify.message"]
        for rule in self.sudo().filtered("active"):
            messages |= rule._plan(messages._today(rule.company_id))
        if messages.filtered(lambda message: message.state == "queued"):
            messages._trigger_dispatch()

    @api.model
    def _cron_plan(self):
        messages = self.env["insurance.notify.message"]
        rules = self.search([("active", "=", True)])
        queued = False
        for done, rule in enumerate(rules, start=1):
            planned = rule._plan(messages._today(rule.company_id))
            queued = queued or any(state == "queued" for state in planned.mapped("state"))
            messages._commit_progress(done=done, remaining=len(rules) - done)
        if queued:
            messages._trigger_dispatch()

    @api.model
    def _trigger_planning(self):
        """A record was saved whose dates may make a reminder due today: plan
        now rather than at the next hourly run."""
        self.env.ref("insurance_notify.ir_cron_plan_notifications").sudo()._trigger()

    def _plan(self, today):
        """Queue the messages of every occurrence since the last planned day,
        and of today again (a record entered during the day gets the reminder
        due that day; the keys make it idempotent).

        An occurrence is a (record, offset) whose day (event date - offset) falls
        after the last planned day and on or before today while the event is
        still ahead; of several missed ones a record gets only the latest.
        """
        self.ensure_one()
        first_day = today
        if self.last_planned_date and self.last_planned_date < today:
            first_day = self.last_planned_date + timedelta(days=1)
        occurrences = self._find_occurrences(first_day, today)
        messages = self.env["insurance.notify.message"]._enqueue(
            self, self._queue_items(occurrences)
        )
        if self.last_planned_date != today:
            self.last_planned_date = today
        return messages

    def _plan_records(self, records, today):
        """Queue, for a send by hand, each record's occurrence whose day passed
        last (or, when none has yet, the next one) under the key the automatic
        run would use, so it does not send it again."""
        self.ensure_one()
        items = self._queue_items(self._occurrences_now(records, today))
        return self.env["insurance.notify.message"]._enqueue(self, items)

    def _queue_items(self, occurrences):
        res_model = self.res_model
        items = []
        for occ in occurrences:
            unit = self._experiment_unit(res_model, occ.res_id)
            items.append(
                QueueItem(
                    res_model=res_model,
                    res_id=occ.res_id,
                    partner_id=occ.partner_id,
                    policy_id=occ.policy_id,
                    offset=occ.offset,
                    event_date=occ.event_date,
                    skip=self._skip_reason(occ),
                    control=experiment.is_control(unit, self.control_percent),
                    variant=self._experiment_variant(unit),
                )
            )
        return items

    # ------------------------------------------------------------------
    # Measuring: control group and variants
    # ------------------------------------------------------------------

    def _experiment_unit(self, res_model, res_id):
        """What the control group and the variants are drawn for: the rule and
        the document, not the offset nor the day, so every reminder of one
        series (21, 14, 7 days) falls in one group and a re-plan keeps it."""
        return f"{self.id}-{res_model}-{res_id}"

    def _has_variant_b(self):
        self.ensure_one()
        return bool(self.sms_template_b_id or self.mail_template_b_id)

    def _experiment_variant(self, unit):
        """ "a" or "b" when the rule compares two templates, else False."""
        if not self._has_variant_b():
            return False
        return experiment.variant(unit, self.variant_b_percent)

    def _notify_templates(self, variant=False):
        self.ensure_one()
        if variant == experiment.VARIANT_B:
            return (
                self.sms_template_b_id or self.sms_template_id,
                self.mail_template_b_id or self.mail_template_id,
            )
        return self.sms_template_id, self.mail_template_id

    # ------------------------------------------------------------------
    # The sender interface (insurance.notify.sender)
    # ------------------------------------------------------------------

    def _notify_is_reminder(self):
        return True

    def _notify_whatsapp_event(self):
        return self.event_type

    def _notify_measures_outcome(self):
        return bool(self._notify_event_sources()[self.event_type].outcome_on)

    def _notify_key(self, item):
        return (
            f"{self.id}-{item.res_model}-{item.res_id}-{item.offset}-{self.channel}-"
            f"{item.event_date}"
        )

    def _notify_is_late(self, message, today):
        source = self._notify_event_sources()[self.event_type]
        if source.after or not message.event_date or message.event_date >= today:
            return None
        return "birthday_passed" if self.event_type == "birthday" else "event_passed"

    def _event_filters(self):
        """The rule's filters on the columns every event source yields."""
        return event_filters(
            self.company_id, self.insurer_ids, self.product_ids, self.user_ids, self.sales_channel
        )

    def _consent_requirements(self):
        """(consent mode, res.partner field of the specific consent or None)."""
        self.ensure_one()
        return self.consent_mode, self._notify_event_sources()[self.event_type].specific_consent

    def _find_occurrences(self, first_day, today):
        """Rows (res_id, partner_id, policy_id, offset, event_date) whose day
        falls in [first_day, today]; one per record, the latest missed one."""
        source = self._notify_event_sources()[self.event_type]
        offsets = list(self._parsed_offsets())
        # The day an occurrence is due: before the event, or after it (overdue).
        sign = 1 if source.after else -1
        if source.after:
            lowest = first_day - timedelta(days=max(offsets))
            highest = today - timedelta(days=min(offsets))
            still_relevant = SQL("TRUE")
        else:
            lowest = first_day + timedelta(days=min(offsets))
            highest = today + timedelta(days=max(offsets))
            still_relevant = SQL("e.event_date >= %s", today)
        query = SQL(
            """
            SELECT DISTINCT ON (e.res_id) e.res_id, e.partner_id, e.policy_id, o.days,
                   e.event_date, e.policy_state, e.skip
              FROM (%(events)s) AS e
              JOIN unnest(%(offsets)s::int[]) AS o(days)
                ON e.event_date + %(sign)s * o.days BETWEEN %(first)s AND %(today)s
             WHERE e.event_date BETWEEN %(lowest)s AND %(highest)s
               AND %(still_relevant)s
               AND %(filters)s
             ORDER BY e.res_id, %(sign)s * o.days DESC
            """,
            events=source.query(today, self.company_id),
            offsets=offsets,
            sign=sign,
            first=first_day,
            today=today,
            lowest=lowest,
            highest=highest,
            still_relevant=still_relevant,
            filters=self._event_filters(),
        )
        self.env.flush_all()
        return [Occurrence(*row) for row in self.env.execute_query(query)]

    def _occurrences_now(self, records, today):
        """For a send by hand: per record, the occurrence whose day passed last
        (or, when none has yet, the next one), so that the automatic run finds
        its key taken and does not send it again."""
        source = self._notify_event_sources()[self.event_type]
        offsets = self._parsed_offsets()
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT e.res_id, e.partner_id, e.policy_id, e.event_date, e.policy_state, e.skip
                  FROM (%s) AS e
                 WHERE e.res_id = ANY(%s) AND e.event_date IS NOT NULL AND %s
                """,
                source.query(today, self.company_id),
                records.ids,
                self._event_filters(),
            )
        )
        occurrences = []
        for res_id, partner_id, policy_id, event_date, policy_state, skip in rows:
            distance = (today - event_date).days if source.after else (event_date - today).days
            if distance < 0:
                continue  # before-events already past, overdue-events not yet due
            if source.after:
                passed = [offset for offset in offsets if offset <= distance]
                offset = max(passed) if passed else min(offsets)
            else:
                passed = [offset for offset in offsets if offset >= distance]
                offset = min(passed) if passed else max(offsets)
            occurrences.append(
                Occurrence(res_id, partner_id, policy_id, offset, event_date, policy_state, skip)
            )
        return occurrences

    def _skip_reason(self, occurrence):
        """Why this occurrence is planned but not sent (a reason code), or None."""
        if occurrence.skip:
            return occurrence.skip
        if (
            occurrence.policy_state
            and occurrence.policy_state not in self.POLICY_SCOPES[self.policy_scope]
        ):
            return f"policy_{occurrence.policy_state}"
        return None
