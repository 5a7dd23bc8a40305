from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import format_date

from . import entry_bounds


class InsurancePolicyInstallment(models.Model):
    _name = "insurance.policy.installment"
    _description = "Premium Installment"
    _inherit = ["insurance.import.mixin"]
    _order = "date_due, id"
    _check_company_auto = True

    policy_id = fields.Many2one(
        "insurance.policy", required=True, index=True, ondelete="cascade", check_company=True
    )
    partner_id = fields.Many2one(
        related="policy_id.partner_id", store=True, index=True, string="Policyholder"
    )
    insurer_id = fields.Many2one(related="policy_id.insurer_id", store=True)
    user_id = fields.Many2one(related="policy_id.user_id", store=True, string="Broker")
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="policy_id.currency_id")
    # Placeholders a broker picks for installment reminders, one click away.
    policy_name = fields.Char(related="policy_id.name", string="Policy Number")
    broker_contact = fields.Char(
        related="policy_id.broker_contact", string="Broker's Name and Phone"
    )
    date_due = fields.Date(string="Due Date", required=True, index=True)
    amount = fields.Monetary(required=True, currency_field="currency_id")
    state = fields.Selection(
        [("open", "Open"), ("paid", "Paid")],
        default="open",
        required=True,
        index=True,
        copy=False,
    )
    date_paid = fields.Date(string="Payment Date", copy=False)
    is_overdue = fields.Boolean(
        string="Overdue",
        compute="_compute_is_overdue",
        search="_search_is_overdue",
        help="Open and past its due date.",
    )
    reminder_sent_at = fields.Datetime(
        string="Reminder Sent",
        compute="_compute_reminder_sent_at",
        help="When the last reminder of this installment (due or overdue) was sent.",
    )

    _sql_constraints = [
        ("amount_positive", "CHECK (amount > 0)", "An installment amount must be positive."),
    ]

    @api.ondelete(at_uninstall=False)
    def _unlink_paid_by_managers_only(self):
        # A paid installment is a payment record: brokers reopen it, managers
        # may remove it.
        if self.filtered(lambda i: i.state == "paid") and not self.env.user.has_group(
            "insurance_notify.group_insurance_manager"
        ):
            raise AccessError(self.env._("Only insurance managers can delete a paid installment."))

    @api.depends("policy_id.display_name", "date_due")
    def _compute_display_name(self):
        for installment in self:
            installment.display_name = self.env._(
                "%(policy)s, due %(date)s",
                policy=installment.policy_id.name or "",
                date=installment.date_due and format_date(self.env, installment.date_due),
            )

    def _today(self):
        return self.env["insurance.notify.message"]._today(self.env.company)

    @api.depends("date_due", "state")
    def _compute_is_overdue(self):
        today = self._today()
        for installment in self:
            installment.is_overdue = (
                installment.state == "open"
                and bool(installment.date_due)
                and installment.date_due < today
            )

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(
                self.env._("Search overdue installments with “is set” or “is not set”.")
            )
        overdue = [("state", "=", "open"), ("date_due", "<", self._today())]
        if (operator == "=") == bool(value):
            return overdue
        return ["!", "&", *overdue]

    def _compute_reminder_sent_at(self):
        sent = self.env["insurance.notify.message"]._last_sent(
            self, ["installment_due", "installment_overdue"]
        )
        for installment in self:
            installment.reminder_sent_at = sent.get(installment.id, False)

    def action_send_reminder(self):
        """Due or overdue, whichever this installment is now."""
        self.ensure_one()
        if not self.env.user.has_group("insurance_notify.group_insurance_user"):
            raise AccessError(self.env._("Only insurance users can send reminders."))
        self.check_access("write")
        if self.state != "open":
            raise UserError(self.env._("This installment is paid: no reminder is sent."))
        event_type = "installment_overdue" if self.is_overdue else "installment_due"
        return self.env["insurance.notify.message"]._action_send_now(self, event_type)

    def action_mark_paid(self):
        self.check_access("write")
        if any(installment.state != "open" for installment in self):
            raise UserError(self.env._("Only open installments can be marked as paid."))
        self.write({"state": "paid", "date_paid": fields.Date.context_today(self)})
        return True

    def action_reopen(self):
        self.check_access("write")
        if any(installment.state != "paid" for installment in self):
            raise UserError(self.env._("Only paid installments can be reopened."))
        self.write({"state": "open", "date_paid": False})
        return True

    def _check_entry_bounds(self, vals):
        """An amount that is no number or absurd, a date before 1900 or beyond a
        century ahead: refused in the user's language (notify_engine.bounds)."""
        policy = self.policy_id or self.env["insurance.policy"].browse(vals.get("policy_id"))
        name = policy.name or self.env._("this installment")
        if "amount" in vals:
            entry_bounds.check_amount(self, "amount", vals["amount"], name)
        for field in ("date_due", "date_paid"):
            if vals.get(field):
                entry_bounds.check_date(self, field, vals[field], name)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_entry_bounds(vals)
        installments = super().create(vals_list)
        self.env["insurance.notify.rule"]._trigger_planning()
        return installments

    def write(self, vals):
        for installment in self:
            installment._check_entry_bounds(vals)
        result = super().write(vals)
        if vals.get("state") == "paid":
            # However it gets paid (button, import, payment sync), no reminder
            # about a settled installment may leave any more.
            self.env["insurance.notify.message"]._cancel_queued_for(self, "installment_paid")
        if {"date_due", "state", "policy_id"} & vals.keys():
            self.env["insurance.notify.rule"]._trigger_planning()
        return result
