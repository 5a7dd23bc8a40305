from collections import namedtuple
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from odoo.addons.base.models.res_partner import _tz_get

from notify_engine import schedule

from .notify_event_sources import SOURCES, event_filters

# One event a rule is due to remind of, as the planner's query yields it.
Occurrence = namedtuple(
    "Occurrence", "res_id partner_id policy_id offset event_date policy_state skip"
)

HOUR_WINDOW_HELP = "Local time of the recipient (partner, else company, else the rule's timezone)."


class InsuranceNotifyRule(models.Model):
    _name = "insurance.notify.rule"
    _description = "Automatic Notification Rule"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

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
        [("sms", "SMS"), ("email", "E-mail"), ("sms_email", "SMS, else e-mail")],
        required=True,
        default="sms",
        tracking=True,
        help="SMS, else e-mail: an e-mail goes to clients with no usable mobile or no SMS consent.",
    )
    offsets = fields.Char(
        string="Days",
        required=True,
        default="21,14,7",
        tracking=True,
        help="Days before the event (after the due date for overdue installments), "
        "comma-separated: 21,14,7 sends three reminders.",
    )
    consent_mode = fields.Selection(
        [
            ("none", "Not required"),
            ("general", "General (marketing consent)"),
            ("specific", "Specific (consent to this notification)"),
        ],
        string="Client Consent",
        required=True,
        default="none",
        tracking=True,
        help="Service reminders rest on the contract; anything promotional needs consent. "
        "A withdrawn consent or a blacklisted number stops a message even when queued.",
    )
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
    res_model = fields.Char(compute="_compute_res_model")
    gateway_id = fields.Many2one(
        "insurance.notify.gateway",
        string="SMS Gateway",
        domain="[('company_id', '=', company_id)]",
        help="Leave empty to use the company's default gateway.",
    )
    policy_scope = fields.Selection(
        [("valid", "Valid policies"), ("valid_draft", "Valid and draft policies")],
        string="Policies",
        required=True,
        default="valid",
        help="Reminders about other policies are recorded as skipped, with the reason.",
    )
    sales_channel = fields.Selection(
        selection=lambda self: self.env["insurance.policy"]._fields["sales_channel"].selection,
        help="Only policies sold through this channel; empty for all.",
    )
    send_days = fields.Selection(
        [
            ("all", "Every day"),
            ("mon_sat", "Monday to Saturday"),
            ("mon_fri", "Monday to Friday"),
        ],
        string="Sending Days",
        required=True,
        default="all",
    )
    sms_transliterate = fields.Boolean(
        string="Transliterate",
        help="Replace letters GSM-7 lacks (ą → a, š → s) so a part holds 160 characters, "
        "not 70. The template's own setting applies too.",
    )
    sms_max_parts = fields.Integer(
        string="Max. SMS Parts",
        help="A rendered message with more parts is not sent: it fails as too long. "
        "0 uses the template's limit (none if it has none).",
    )
    window_start = fields.Float(string="Send From", default=8.0, help=HOUR_WINDOW_HELP)
    window_end = fields.Float(string="Send Until", default=20.0, help=HOUR_WINDOW_HELP)
    timezone = fields.Selection(
        _tz_get,
        default="Europe/Warsaw",
        required=True,
        help="Used for clients whose card and company have no timezone.",
    )
    insurer_ids = fields.Many2many(
        "res.partner", string="Insurers", domain=[("is_insurer", "=", True)]
    )
    product_ids = fields.Many2many("insurance.product", string="Products")
    user_ids = fields.Many2many("res.users", string="Brokers")
    last_planned_date = fields.Date(
        readonly=True,
        copy=False,
        help="The last day whose reminders the planner has created.",
    )
    notify_message_ids = fields.One2many("insurance.notify.message", "rule_id", readonly=True)

    SEND_DAYS = {
        "all": None,
        "mon_sat": frozenset(range(6)),
        "mon_fri": frozenset(range(5)),
    }
    POLICY_SCOPES = {"valid": ["valid"], "valid_draft": ["valid", "draft"]}

    @api.depends("event_type")
    def _compute_res_model(self):
        for rule in self:
            source = SOURCES.get(rule.event_type)
            rule.res_model = source.model if source else False

    def _window(self):
        """(start hour, end hour, weekdays) of the sending window."""
        self.ensure_one()
        return self.window_start, self.window_end, self.SEND_DAYS[self.send_days]

    @api.constrains("offsets")
    def _check_offsets(self):
        for rule in self:
            rule._parsed_offsets()

    @api.constrains("window_start", "window_end")
    def _check_window(self):
        for rule in self:
            if not 0 <= rule.window_start < rule.window_end <= 24:
                raise ValidationError(
                    self.env._(
                        "The sending window must start before it ends, between 00:00 and 24:00."
                    )
                )

    @api.constrains("sms_template_id", "mail_template_id", "event_type")
    def _check_template_model(self):
        for rule in self:
            for template in (rule.sms_template_id, rule.mail_template_id):
                if template:
                    rule._check_one_template(template)

    @api.constrains("channel", "sms_template_id", "mail_template_id")
    def _check_templates_for_channel(self):
        for rule in self:
            if rule.channel in ("sms", "sms_email") and not rule.sms_template_id:
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

    @api.constrains("sms_max_parts")
    def _check_sms_max_parts(self):
        if any(rule.sms_max_parts < 0 for rule in self):
            raise ValidationError(self.env._("The maximum number of SMS parts cannot be negative."))

    def _sms_options(self):
        """(transliterate, max parts or 0) of this rule together with its template."""
        self.ensure_one()
        template = self.sms_template_id
        return (
            self.sms_transliterate or template.sms_transliterate,
            self.sms_max_parts or template.sms_max_parts,
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
            "insurer_ids",
            "product_ids",
            "user_ids",
            "company_id",
        }
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
        today = messages._today()
        for rule in self.sudo().filtered("active"):
            messages |= rule._plan(today, replan_today=True)
        if messages.filtered(lambda message: message.state == "queued"):
            self.env.ref("insurance_notify.ir_cron_dispatch_notifications").sudo()._trigger()

    @api.model
    def _cron_plan(self):
        messages = self.env["insurance.notify.message"]
        today = messages._today()
        rules = self.search([("active", "=", True)])
        for done, rule in enumerate(rules, start=1):
            rule._plan(today)
            messages._commit_progress(done=done, remaining=len(rules) - done)

    def _plan(self, today, replan_today=False):
        """Create the messages of every occurrence since the last planned day.

        An occurrence is a (record, offset) whose day (event date - offset) falls
        after the last planned day and on or before today while the event is
        still ahead; of several missed ones a record gets only the latest.
        """
        self.ensure_one()
        first_day = self.last_planned_date + timedelta(days=1) if self.last_planned_date else today
        if replan_today:
            first_day = min(first_day, today)
        if first_day > today:
            return self.env["insurance.notify.message"]
        occurrences = self._find_occurrences(first_day, today)
        messages = self.env["insurance.notify.message"]._create_planned(self, occurrences)
        self.last_planned_date = today
        return messages

    def _event_filters(self):
        """The rule's filters on the columns every event source yields."""
        return event_filters(
            self.company_id, self.insurer_ids, self.product_ids, self.user_ids, self.sales_channel
        )

    def _consent_requirements(self):
        """(consent mode, res.partner field of the specific consent or None)."""
        self.ensure_one()
        return self.consent_mode, SOURCES[self.event_type].specific_consent

    def _find_occurrences(self, first_day, today):
        """Rows (res_id, partner_id, policy_id, offset, event_date) whose day
        falls in [first_day, today]; one per record, the latest missed one."""
        source = SOURCES[self.event_type]
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
            events=SQL(source.events.format(year=today.year)),
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
        source = SOURCES[self.event_type]
        offsets = self._parsed_offsets()
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT e.res_id, e.partner_id, e.policy_id, e.event_date, e.policy_state, e.skip
                  FROM (%s) AS e
                 WHERE e.res_id = ANY(%s) AND e.event_date IS NOT NULL AND %s
                """,
                SQL(source.events.format(year=today.year)),
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
        """Why this occurrence is planned but not sent, or None."""
        if occurrence.skip == "installment_paid":
            return self.env._("installment paid")
        if (
            occurrence.policy_state
            and occurrence.policy_state not in self.POLICY_SCOPES[self.policy_scope]
        ):
            states = dict(
                self.env["insurance.policy"]._fields["state"]._description_selection(self.env)
            )
            return self.env._("policy %(state)s", state=states[occurrence.policy_state].lower())
        return None
