from odoo import api, fields, models
from odoo.exceptions import UserError


class InsurancePolicy(models.Model):
    _name = "insurance.policy"
    _description = "Insurance Policy"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_end desc, id desc"

    name = fields.Char(string="Policy Number", required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner", string="Policyholder", required=True, index=True, tracking=True
    )
    insurer_id = fields.Many2one(
        "res.partner",
        required=True,
        domain=[("is_insurer", "=", True)],
        tracking=True,
    )
    product_id = fields.Many2one("insurance.product", required=True)
    date_start = fields.Date(string="Start", required=True, tracking=True)
    date_end = fields.Date(string="End", required=True, index=True, tracking=True)
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
    vehicle_plate = fields.Char(string="Plate Number")
    vehicle_model = fields.Char(string="Make and Model")
    inspection_date = fields.Date(string="Technical Inspection Until", index=True)
    premium_amount = fields.Monetary(string="Premium", currency_field="currency_id")
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    user_id = fields.Many2one(
        "res.users", string="Broker", default=lambda self: self.env.user, tracking=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    notify_message_ids = fields.One2many(
        "insurance.notify.message", "policy_id", string="Reminders", readonly=True
    )
    notify_message_count = fields.Integer(compute="_compute_notify_message_count")

    _sql_constraints = [
        (
            "dates_in_order",
            "CHECK (date_end >= date_start)",
            "A policy cannot end before it starts.",
        ),
    ]

    @api.depends("notify_message_ids")
    def _compute_notify_message_count(self):
        counts = dict(
            self.env["insurance.notify.message"]._read_group(
                [("policy_id", "in", self.ids)], ["policy_id"], ["__count"]
            )
        )
        for policy in self:
            policy.notify_message_count = counts.get(policy, 0)

    def action_validate(self):
        if any(policy.state != "draft" for policy in self):
            raise UserError(self.env._("Only draft policies can be validated."))
        self.state = "valid"

    def action_cancel(self):
        if any(policy.state not in ("draft", "valid") for policy in self):
            raise UserError(self.env._("Only draft or valid policies can be cancelled."))
        self.state = "cancelled"
        self.env["insurance.notify.message"]._cancel_queued_for(
            self, self.env._("policy cancelled")
        )

    def action_view_notify_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_notify_message"
        )
        action["domain"] = [("policy_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
