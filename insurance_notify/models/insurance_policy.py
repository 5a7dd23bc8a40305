import logging
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import create_index, create_unique_index, index_exists

from . import entry_bounds
from .insurance_import_mixin import constraint_message

_logger = logging.getLogger(__name__)

INSTALLMENT_COUNTS = [
    ("1", "Single payment"),
    ("2", "2 installments"),
    ("4", "4 installments"),
    ("12", "12 installments"),
]


def _default_date_end(policy):
    return fields.Date.context_today(policy) + relativedelta(years=1, days=-1)


class InsurancePolicy(models.Model):
    _name = "insurance.policy"
    _description = "Insurance Policy"
    _inherit = ["mail.thread", "mail.activity.mixin", "insurance.import.mixin"]
    _order = "date_end desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Policy Number", required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Policyholder",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    insurer_id = fields.Many2one(
        "res.partner",
        required=True,
        index=True,
        domain=[("is_insurer", "=", True)],
        tracking=True,
        check_company=True,
    )
    product_id = fields.Many2one("insurance.product", required=True, index=True)
    line_of_business = fields.Selection(related="product_id.line_of_business", store=True)
    date_start = fields.Date(
        string="Start", required=True, tracking=True, default=fields.Date.context_today
    )
    date_end = fields.Date(
        string="End", required=True, index=True, tracking=True, default=_default_date_end
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("valid", "Valid"),
            ("cancelled", "Cancelled"),
            ("expired", "Expired"),
            ("renewed", "Renewed"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    subject = fields.Char(string="Insured Object")
    subject_display = fields.Char(
        string="Insured Object or Product",
        compute="_compute_subject_display",
        help="The insured object, else the product: what brokers call the policy by.",
    )
    vehicle_plate = fields.Char(string="Plate Number")
    vehicle_model = fields.Char(string="Make and Model")
    vehicle_display = fields.Char(
        string="Vehicle (model and plate)",
        compute="_compute_vehicle_display",
        help="“Skoda Octavia WX 12345”, or the insured object when no vehicle is entered.",
    )
    inspection_date = fields.Date(string="Technical Inspection Until", index=True)
    premium_amount = fields.Monetary(string="Premium", currency_field="currency_id", tracking=True)
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    user_id = fields.Many2one(
        "res.users",
        string="Broker",
        default=lambda self: self.env.user,
        tracking=True,
        check_company=True,
    )
    broker_phone = fields.Char(
        string="Broker's Phone",
        compute="_compute_broker_contact",
        help="The broker's mobile (else phone), else the agency's phone.",
    )
    broker_contact = fields.Char(
        string="Broker's Name and Phone",
        compute="_compute_broker_contact",
        help="“Anna Nowak, +48 600 123 456”: whom the client calls. The agency's name "
        "and phone when the policy has no broker.",
    )
    sales_channel = fields.Selection(
        [
            ("office", "Office"),
            ("phone", "Phone"),
            ("online", "Online"),
            ("agent", "Agent"),
            ("partner", "Business Partner"),
        ],
        default="office",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    installment_ids = fields.One2many("insurance.policy.installment", "policy_id", copy=False)
    # Follows the schedule actually entered (four installments read "4
    # installments", not the default "Single payment"), and can still be
    # changed to plan a new schedule with "Generate Installments".
    installment_count = fields.Selection(
        INSTALLMENT_COUNTS,
        string="Payment Plan",
        compute="_compute_installment_count",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
        help="How many equal installments “Generate Installments” splits the premium into.",
    )
    installment_open_count = fields.Integer(compute="_compute_installment_open_count")
    predecessor_id = fields.Many2one(
        "insurance.policy",
        string="Renewal Of",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
    )
    successor_ids = fields.One2many("insurance.policy", "predecessor_id", string="Renewals")
    notify_message_ids = fields.One2many(
        "insurance.notify.message", "policy_id", string="Reminders", readonly=True
    )
    notify_message_count = fields.Integer(compute="_compute_notify_message_count")
    reply_count = fields.Integer(string="Replies", compute="_compute_reply_count")
    expiry_reminder_sent_at = fields.Datetime(
        string="Expiry Reminder Sent",
        compute="_compute_reminder_sent_at",
        help="When the last reminder of this policy's end was sent.",
    )
    inspection_reminder_sent_at = fields.Datetime(
        string="Inspection Reminder Sent",
        compute="_compute_reminder_sent_at",
        help="When the last reminder of this vehicle's technical inspection was sent.",
    )
    # The green "sent" mark must not promise a client was reached when only the
    # sandbox kept the reminder.
    expiry_reminder_sandbox = fields.Boolean(
        string="Expiry Reminder Only In Sandbox", compute="_compute_reminder_sent_at"
    )
    inspection_reminder_sandbox = fields.Boolean(
        string="Inspection Reminder Only In Sandbox", compute="_compute_reminder_sent_at"
    )

    _sql_constraints = [
        (
            "dates_in_order",
            "CHECK (date_end >= date_start)",
            "A policy cannot end before it starts.",
        ),
        (
            "number_company_unique",
            "UNIQUE (company_id, name)",
            "A policy with this number already exists in this company.",
        ),
    ]

    def init(self):
        # The planner asks one company's policies ending on its days: this
        # index reaches them together (cost follows what is due in that
        # agency, not the size of its book).
        create_index(
            self.env.cr,
            "insurance_policy_company_date_end_index",
            self._table,
            ["company_id", "date_end"],
        )

    def _auto_init(self):
        """Numbers are unique per company whatever their case and spaces. A
        database that already holds clashing numbers keeps them (nothing is
        lost): the index waits until they are fixed, and the Python check
        below refuses new clashes meanwhile."""
        result = super()._auto_init()
        cr = self.env.cr
        index = "insurance_policy_number_company_ci_unique"
        if index_exists(cr, index):
            return result
        # Numbers are stored trimmed; one whose trimmed form another policy of
        # its company has keeps its spaces (reported below), nothing is merged.
        cr.execute(
            SQL(
                """
            UPDATE insurance_policy p SET name = trim(p.name)
             WHERE p.name != trim(p.name)
               AND NOT EXISTS (
                   SELECT 1 FROM insurance_policy o
                    WHERE o.id != p.id AND o.company_id = p.company_id
                      AND lower(trim(o.name)) = lower(trim(p.name)))
                """
            )
        )
        clashes = self._number_clashes()
        if clashes:
            _logger.warning(
                "Policy numbers that differ only by case or spaces (fix them to get the "
                "unique index): %s",
                "; ".join(", ".join(names) for names in clashes[:20]),
            )
            return result
        create_unique_index(cr, index, self._table, ["company_id", "lower(trim(name))"])
        return result

    @api.model
    def _number_clashes(self):
        """[[numbers]] of each company that differ only by case or spaces."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT array_agg(name ORDER BY id) FROM insurance_policy
                 GROUP BY company_id, lower(trim(name)) HAVING count(*) > 1
                """
            )
        )
        return [names for (names,) in rows]

    @api.depends("name", "subject", "product_id")
    def _compute_display_name(self):
        for policy in self:
            what = policy.subject or policy.product_id.name
            policy.display_name = f"{policy.name} ({what})" if what else policy.name

    @api.depends("subject", "product_id")
    def _compute_subject_display(self):
        for policy in self:
            policy.subject_display = policy.subject or policy.product_id.name

    @api.model
    def _demo_load_languages(self, codes):
        """Demo data: activate ``codes`` with the translations of every installed
        module, as Settings > Languages > Add would."""
        for code in codes:
            self.env["res.lang"]._activate_lang(code)
        modules = self.env["ir.module.module"].search([("state", "=", "installed")])
        self.env["ir.module.module"]._load_module_terms(modules.mapped("name"), codes)
        # insurance_notify itself is not installed yet while its demo loads.
        self.env["ir.module.module"]._load_module_terms(["insurance_notify"], codes)

    @api.depends("installment_ids")
    def _compute_installment_count(self):
        counts = {value for value, _label in INSTALLMENT_COUNTS}
        for policy in self:
            entered = str(len(policy.installment_ids))
            if entered in counts:
                policy.installment_count = entered
            elif not policy.installment_count:
                policy.installment_count = "1"

    @api.depends("vehicle_model", "vehicle_plate", "subject", "product_id")
    def _compute_vehicle_display(self):
        for policy in self:
            vehicle = " ".join(filter(None, (policy.vehicle_model, policy.vehicle_plate)))
            policy.vehicle_display = vehicle or policy.subject_display or ""

    @api.depends("user_id.name", "user_id.mobile", "user_id.phone", "company_id.phone")
    def _compute_broker_contact(self):
        # Templates say "call {{ object.broker_contact }}": never empty, so a
        # client is never told "call ." when the policy has no broker.
        for policy in self:
            user = policy.user_id
            if user.id == SUPERUSER_ID:  # OdooBot answers no phone
                user = user.browse()
            company = policy.company_id
            policy.broker_phone = user.mobile or user.phone or company.phone or ""
            name = user.name or company.name
            policy.broker_contact = ", ".join(filter(None, (name, policy.broker_phone)))

    @api.depends("installment_ids.state")
    def _compute_installment_open_count(self):
        counts = dict(
            self.env["insurance.policy.installment"]._read_group(
                [("policy_id", "in", self.ids), ("state", "=", "open")], ["policy_id"], ["__count"]
            )
        )
        for policy in self:
            policy.installment_open_count = counts.get(policy, 0)

    @api.depends("notify_message_ids")
    def _compute_notify_message_count(self):
        counts = dict(
            self.env["insurance.notify.message"]._read_group(
                [("policy_id", "in", self.ids)], ["policy_id"], ["__count"]
            )
        )
        for policy in self:
            policy.notify_message_count = counts.get(policy, 0)

    @api.depends("notify_message_ids.state")
    def _compute_reminder_sent_at(self):
        Message = self.env["insurance.notify.message"]
        expiry = Message._last_sent(self, ["policy_expiry"])
        inspection = Message._last_sent(self, ["inspection_expiry"])
        reached_expiry = Message._last_sent(self, ["policy_expiry"], reached_only=True)
        reached_inspection = Message._last_sent(self, ["inspection_expiry"], reached_only=True)
        for policy in self:
            policy.expiry_reminder_sent_at = expiry.get(policy.id, False)
            policy.inspection_reminder_sent_at = inspection.get(policy.id, False)
            policy.expiry_reminder_sandbox = policy.id in expiry and policy.id not in reached_expiry
            policy.inspection_reminder_sandbox = (
                policy.id in inspection and policy.id not in reached_inspection
            )

    # Saving one of these may make a reminder due today: plan at once.
    PLANNING_FIELDS = frozenset(
        {
            "date_end",
            "inspection_date",
            "state",
            "partner_id",
            "insurer_id",
            "product_id",
            "user_id",
        }
    )

    # Saving one of these may be what a reminder asked for.
    OUTCOME_FIELDS = frozenset({"state", "inspection_date"})

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "name" in vals:
                vals["name"] = self._clean_number(vals["name"])
            self._check_entry_bounds(vals, vals.get("name") or "")
            # Before the INSERT, whose CHECK would answer in English.
            start = fields.Date.to_date(vals.get("date_start")) or fields.Date.context_today(self)
            end = fields.Date.to_date(vals.get("date_end")) or _default_date_end(self)
            self._check_dates_in_order(start, end, vals.get("name") or "")
        self._check_numbers_free(vals_list)
        policies = super().create(vals_list)
        self.env["insurance.notify.rule"]._trigger_planning()
        # A new policy may be the renewal of one its client was reminded of.
        reminded = (
            self.sudo().search([("partner_id", "in", policies.partner_id.ids)])
            | policies.sudo().predecessor_id
        )
        self.env["insurance.notify.message"].sudo()._settle_outcomes(self._name, reminded.ids)
        return policies

    def write(self, vals):
        if "name" in vals:
            vals["name"] = self._clean_number(vals["name"])
        for policy in self:
            policy._check_entry_bounds(vals, vals.get("name") or policy.name)
        if "name" in vals or "company_id" in vals:
            self._check_numbers_free(
                [
                    {
                        "name": vals.get("name", policy.name),
                        "company_id": vals.get("company_id", policy.company_id.id),
                    }
                    for policy in self
                ],
                exclude=self,
            )
        result = super().write(vals)
        if self.PLANNING_FIELDS & vals.keys():
            self.env["insurance.notify.rule"]._trigger_planning()
        if self.OUTCOME_FIELDS & vals.keys():
            # Renewed, or a later inspection entered: the reminders converted today.
            self.env["insurance.notify.message"].sudo()._settle_outcomes(self._name, self.ids)
        return result

    @api.model
    def _clean_number(self, name):
        """A policy number as stored: without surrounding spaces, never empty."""
        name = (name or "").strip() if isinstance(name, str) or not name else name
        if not name:
            raise ValidationError(self.env._("A policy needs a number."))
        return name

    @api.model
    def _check_numbers_free(self, vals_list, exclude=None):
        """Name the policy number that is taken — whatever its case — before the
        unique index refuses it with a message about columns (imports show it
        per row). One query."""
        default_company = self.env.company.id
        wanted = {}
        for vals in vals_list:
            name = vals.get("name")
            key = (vals.get("company_id") or default_company, (name or "").lower())
            if name and key in wanted:
                raise self._number_taken_error(name)
            if name:
                wanted[key] = name
        if not wanted:
            return
        self.flush_model(["name", "company_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT company_id, name FROM insurance_policy
                 WHERE lower(trim(name)) = ANY(%s) AND id != ALL(%s)
                """,
                list({lowered for _company, lowered in wanted}),
                (exclude or self.browse()).ids,
            )
        )
        for company_id, name in rows:
            if (company_id, name.strip().lower()) in wanted:
                raise self._number_taken_error(wanted[(company_id, name.strip().lower())])

    # What a person types that must stay within sane bounds (notify_engine.bounds).
    BOUNDED_DATES = ("date_start", "date_end", "inspection_date")

    @api.model
    def _check_entry_bounds(self, vals, policy_name):
        """Refuse, in the user's language, a number too long, a premium that is no
        number or absurd, a date before 1900 or beyond a century ahead — before
        the ORM converts them (1e308 would end in an OverflowError)."""
        if "name" in vals:
            entry_bounds.check_length(self, "name", vals["name"])
        if "premium_amount" in vals:
            entry_bounds.check_amount(self, "premium_amount", vals["premium_amount"], policy_name)
        for name in self.BOUNDED_DATES:
            if vals.get(name):
                entry_bounds.check_date(self, name, vals[name], policy_name)

    @api.model
    def _check_dates_in_order(self, start, end, policy_name):
        """The dates_in_order CHECK's own message, in the user's language (an
        import reported it in English), with the policy it is about."""
        if start and end and end < start:
            message = constraint_message(
                self.env, "insurance_policy_dates_in_order", "A policy cannot end before it starts."
            )
            raise ValidationError(f"{message} ({policy_name})" if policy_name else message)

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        # Runs on write before the row is flushed: the CHECK never has to answer.
        for policy in self:
            policy._check_dates_in_order(policy.date_start, policy.date_end, policy.name)

    def _number_taken_error(self, name):
        return ValidationError(
            self.env._("A policy numbered %(number)s already exists in this company.", number=name)
        )

    @api.constrains("premium_amount")
    def _check_premium(self):
        negative = self.filtered(lambda policy: policy.premium_amount < 0)
        if negative:
            raise ValidationError(
                self.env._(
                    "The premium of policy %(policy)s cannot be negative.",
                    policy=negative[0].name,
                )
            )

    @api.constrains("insurer_id")
    def _check_insurer(self):
        not_insurers = self.filtered(lambda p: not p.insurer_id.is_insurer)
        if not_insurers:
            raise ValidationError(
                self.env._(
                    "%(partner)s is not an insurer: only contacts marked as insurers can "
                    "issue policies (policy %(policy)s).",
                    partner=not_insurers[0].insurer_id.display_name,
                    policy=not_insurers[0].name,
                )
            )

    # ------------------------------------------------------------------
    # States
    # ------------------------------------------------------------------

    def _check_state(self, allowed, message):
        wrong = self.filtered(lambda p: p.state not in allowed)
        if wrong:
            raise UserError(
                self.env._(
                    "%(message)s Policy %(policy)s is “%(state)s”.",
                    message=message,
                    policy=wrong[0].name,
                    state=dict(wrong[0]._fields["state"]._description_selection(self.env))[
                        wrong[0].state
                    ],
                )
            )

    def action_validate(self):
        self.check_access("write")
        self._check_state(("draft",), self.env._("Only draft policies can be validated."))
        self.state = "valid"

    def action_draft(self):
        self.check_access("write")
        self._check_state(
            ("cancelled",), self.env._("Only cancelled policies can be set back to draft.")
        )
        self.state = "draft"

    def action_cancel(self):
        self.check_access("write")
        self._check_state(
            ("draft", "valid"), self.env._("Only draft or valid policies can be cancelled.")
        )
        self.state = "cancelled"
        self.env["insurance.notify.message"]._cancel_queued_for(self, "policy_cancelled")

    def action_renew(self):
        """Create the successor policy for the next period and close this one."""
        self.check_access("write")
        self.check_access("create")
        self._check_state(
            ("valid", "expired"), self.env._("Only valid or expired policies can be renewed.")
        )
        renewed = self.filtered("successor_ids")
        if renewed:
            raise UserError(
                self.env._("Policy %(policy)s has already been renewed.", policy=renewed[0].name)
            )
        successors = self.browse()
        for policy in self:
            start, end = policy._next_period()
            successors |= policy.copy(
                {
                    "name": f"{policy.name}/{start.year}",
                    "date_start": start,
                    "date_end": end,
                    "predecessor_id": policy.id,
                    "inspection_date": policy.inspection_date,
                }
            )
        self.state = "renewed"
        self.env["insurance.notify.message"]._cancel_queued_for(self, "policy_renewed")
        if len(successors) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "insurance.policy",
                "res_id": successors.id,
                "view_mode": "form",
            }
        return True

    def _next_period(self):
        """The period after this one, as long as this one: a year stays a year
        across leap days, other lengths are kept in days."""
        self.ensure_one()
        start = self.date_end + timedelta(days=1)
        length = relativedelta(start, self.date_start)
        if not length.days:
            return start, start + relativedelta(years=length.years, months=length.months, days=-1)
        return start, start + (self.date_end - self.date_start)

    @api.model
    def _cron_expire(self, batch_size=1000):
        """Valid policies whose end date has passed become expired."""
        messages = self.env["insurance.notify.message"]
        domain = [("state", "=", "valid"), ("date_end", "<", messages._today())]
        remaining = self.search_count(domain)
        done = 0
        while policies := self.search(domain, limit=batch_size):
            policies.state = "expired"
            done += len(policies)
            remaining -= len(policies)
            messages._commit_progress(done=done, remaining=max(remaining, 0))
        return done

    # ------------------------------------------------------------------
    # Installments
    # ------------------------------------------------------------------

    def action_generate_installments(self):
        self.check_access("write")
        for policy in self:
            policy._generate_installments(int(policy.installment_count or 1))
        return True

    def _generate_installments(self, count):
        """Replace the open schedule by ``count`` equal installments of the premium,
        the first due on the start date; rounding goes to the last one."""
        self.ensure_one()
        if count not in (1, 2, 4, 12):
            raise UserError(self.env._("A premium is paid in 1, 2, 4 or 12 installments."))
        if self.state not in ("draft", "valid"):
            raise UserError(
                self.env._("Installments can be planned only for draft or valid policies.")
            )
        if self.premium_amount <= 0:
            raise UserError(
                self.env._(
                    "Enter the premium of policy %(policy)s before generating its installments.",
                    policy=self.name,
                )
            )
        if self.installment_ids.filtered(lambda i: i.state == "paid"):
            raise UserError(
                self.env._(
                    "Policy %(policy)s already has paid installments: change the schedule by hand.",
                    policy=self.name,
                )
            )
        currency = self.currency_id
        share = currency.round(self.premium_amount / count)
        months = 12 // count
        vals_list = [
            {
                "policy_id": self.id,
                "date_due": self.date_start + relativedelta(months=months * index),
                "amount": share,
            }
            for index in range(count)
        ]
        vals_list[-1]["amount"] = currency.round(self.premium_amount - share * (count - 1))
        self.installment_ids.unlink()
        return self.env["insurance.policy.installment"].create(vals_list)

    # ------------------------------------------------------------------
    # Smart buttons
    # ------------------------------------------------------------------

    def _compute_reply_count(self):
        counts = dict(
            self.env["insurance.notify.reply"]._read_group(
                [("res_model", "=", self._name), ("res_id", "in", self.ids)],
                ["res_id"],
                ["__count"],
            )
        )
        for policy in self:
            policy.reply_count = counts.get(policy.id, 0)

    def _reply_domain(self):
        return [("res_model", "=", self._name), ("res_id", "=", self.id)]

    def action_view_replies(self):
        self.ensure_one()
        self.check_access("read")
        return self.env["insurance.notify.reply"]._action_for(self._reply_domain())

    def action_reply_by_sms(self):
        self.ensure_one()
        self.check_access("read")
        return self.env["insurance.notify.reply"]._action_reply_by_sms_for(self._reply_domain())

    def action_view_notify_messages(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_notify_message"
        )
        action["domain"] = [("policy_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def _check_send_now(self):
        """Send now: brokers, on policies of their companies (it sends with sudo)."""
        if not self.env.user.has_group("insurance_notify.group_insurance_user"):
            raise AccessError(self.env._("Only insurance users can send reminders."))
        self.check_access("write")

    def action_send_expiry_reminder(self):
        self._check_send_now()
        return self.env["insurance.notify.message"]._action_send_now(self, "policy_expiry")

    def action_send_inspection_reminder(self):
        self._check_send_now()
        return self.env["insurance.notify.message"]._action_send_now(self, "inspection_expiry")

    def action_view_installments(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_installment"
        )
        action["domain"] = [("policy_id", "=", self.id)]
        action["context"] = {"default_policy_id": self.id}
        return action
