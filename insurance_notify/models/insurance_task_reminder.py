from datetime import timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.notify_engine import phone, schedule
from .insurance_notify_sender import QueueItem

# What the settings start with, per audience: (channel, lead time in hours).
AUDIENCE_DEFAULTS = {"customer": ("sms", 24.0), "operator": ("email", 1.0)}


def task_param(audience, name):
    """Config parameter of the default task reminder for ``audience``."""
    return f"insurance_notify.task_{audience}_{name}"


class InsuranceTaskReminder(models.Model):
    """One automatic reminder of a task, to its customer or to its assignees."""

    _name = "insurance.task.reminder"
    _inherit = ["insurance.notify.sender"]
    _description = "Task Reminder"
    _order = "task_id, audience, id"
    _check_company_auto = True

    task_id = fields.Many2one("project.task", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(
        related="task_id.company_id", store=True, index=True, readonly=True, precompute=True
    )
    audience = fields.Selection(
        [("customer", "Customer"), ("operator", "Operators")], required=True, default="customer"
    )
    enabled = fields.Boolean(string="Send", default=True)
    # Reminders of a task rest on the service agreed: no consent beyond the blacklist.
    consent_mode = fields.Selection(default="none")
    channel = fields.Selection([("sms", "SMS"), ("email", "E-mail")], required=True, default="sms")
    template_model_id = fields.Many2one("ir.model", compute="_compute_template_model_id")
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain="[('model', '=', 'project.task')]",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="E-mail Template",
        domain="[('model', '=', 'project.task')]",
    )
    gateway_id = fields.Many2one(check_company=True)
    lead_time = fields.Float(
        string="Before Deadline",
        default=24.0,
        help="Hours and minutes before the task's deadline the reminder leaves.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Recipient",
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        help="The customer's contact person, else the customer.",
        check_company=True,
    )
    number = fields.Char(
        string="Mobile",
        compute="_compute_number",
        store=True,
        readonly=False,
        help="The contact person's mobile first, then their other numbers, then the "
        "customer's; or type another one.",
    )
    number_suggestions = fields.Char(string="Other Numbers", compute="_compute_number_suggestions")
    message_ids = fields.One2many(
        "insurance.notify.message", "task_reminder_id", string="Messages", readonly=True
    )

    def _compute_template_model_id(self):
        model = self.env["ir.model"]._get("project.task")
        self.template_model_id = model

    @api.depends("task_id.partner_id", "audience")
    def _compute_partner_id(self):
        for line in self:
            line.partner_id = line.task_id.partner_id if line.audience == "customer" else False

    @api.depends("partner_id", "audience", "channel")
    def _compute_number(self):
        for line in self:
            if line.audience == "customer" and line.channel == "sms":
                line.number = (line._suggested_numbers() or [False])[0]
            else:
                line.number = False

    @api.depends("partner_id", "audience", "number")
    def _compute_number_suggestions(self):
        for line in self:
            others = [n for n in line._suggested_numbers() if n != line.number]
            line.number_suggestions = ", ".join(others)

    def _suggested_numbers(self):
        """The contact person's numbers (mobile first), then the customer's."""
        self.ensure_one()
        numbers = []
        if self.audience != "customer":
            return numbers
        person = self.partner_id
        for partner in person | person.commercial_partner_id:
            for raw in (partner.mobile, partner.phone):
                if not raw:
                    continue
                try:
                    number = phone.normalize(raw, partner._phone_region())
                except phone.InvalidPhone:
                    continue
                if number not in numbers:
                    numbers.append(number)
        return numbers

    # ------------------------------------------------------------------
    # Defaults from the settings
    # ------------------------------------------------------------------

    @api.model
    def _default_values(self, audience):
        """Values of the default reminder for ``audience``, or None when it is off."""
        params = self.env["ir.config_parameter"].sudo()
        if not params.get_param(task_param(audience, "enabled")):
            return None
        default_channel, default_lead = AUDIENCE_DEFAULTS[audience]
        channel = params.get_param(task_param(audience, "channel")) or default_channel
        # The settings are every agency's: only a shared template (no agency) is
        # everyone's default.
        sms_template = self.env["sms.template"].sudo().browse(
            int(params.get_param(task_param(audience, "sms_template_id")) or 0)
        ).exists().filtered(lambda t: not t.company_id) or self.env.ref(
            f"insurance_notify.sms_template_task_{audience}", False
        )
        mail_template = self.env["mail.template"].sudo().browse(
            int(params.get_param(task_param(audience, "mail_template_id")) or 0)
        ).exists().filtered(lambda t: not t.company_id) or self.env.ref(
            f"insurance_notify.mail_template_task_{audience}", False
        )
        lead_time = params.get_param(task_param(audience, "lead_time"))
        return {
            "audience": audience,
            "enabled": True,
            "channel": channel,
            "sms_template_id": sms_template.id if sms_template else False,
            "mail_template_id": mail_template.id if mail_template else False,
            "lead_time": float(lead_time) if lead_time else default_lead,
        }

    # ------------------------------------------------------------------
    # Create / write: a number typed by hand is read and stored in E.164
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("number"):
                vals["number"] = self._read_number(vals["number"])
        lines = super().create(vals_list)
        lines.task_id._sync_insurance_reminders()
        return lines

    def write(self, vals):
        if vals.get("number"):
            vals["number"] = self._read_number(vals["number"])
        tasks = self.task_id
        result = super().write(vals)
        (tasks | self.task_id)._sync_insurance_reminders()
        return result

    def unlink(self):
        tasks = self.task_id
        self.env["insurance.notify.message"].sudo().search(
            [("task_reminder_id", "in", self.ids), ("state", "=", "queued")]
        ).write({"state": "cancelled", "reason_code": "reminder_removed", "reason_params": False})
        result = super().unlink()
        tasks.exists()._sync_insurance_reminders()
        return result

    def _read_number(self, raw):
        region = self.env.company.country_id.code or None
        try:
            return phone.normalize(raw, region)
        except phone.InvalidPhone:
            raise ValidationError(
                self.env._(
                    "The phone number “%(number)s” for the SMS reminder cannot be read. "
                    "Enter it with + and the country code, for example +48 600 123 456.",
                    number=raw,
                )
            ) from None

    # ------------------------------------------------------------------
    # The sender interface (insurance.notify.sender)
    # ------------------------------------------------------------------

    def _notify_key(self, item):
        deadline = self.task_id.date_deadline.isoformat()
        return f"task-{self.id}-{item.partner_id}-{self.channel}-{deadline}"

    def _notify_company(self):
        self.ensure_one()
        return self.task_id.company_id or self.env.company

    def _queue_items(self):
        """The messages this reminder calls for: one per recipient, leaving the
        lead time before the deadline, never at night."""
        self.ensure_one()
        task = self.task_id
        company_tz = self._notify_company().partner_id.tz
        items = []
        for partner, number, email in self._contacts():
            timezone = schedule.resolve_timezone(partner.tz, company_tz, default=self.timezone)
            local_deadline = pytz.utc.localize(task.date_deadline).astimezone(
                pytz.timezone(timezone)
            )
            items.append(
                QueueItem(
                    res_model="project.task",
                    res_id=task.id,
                    partner_id=partner.id,
                    event_date=local_deadline.date(),
                    not_before=schedule.reminder_time(
                        task.date_deadline,
                        timedelta(hours=self.lead_time),
                        timezone,
                        self.window_start,
                        self.window_end,
                    ),
                    number=(number or False) if self.channel == "sms" else None,
                    email=(email or False) if self.channel == "email" else None,
                )
            )
        return items

    # ------------------------------------------------------------------
    # Recipients
    # ------------------------------------------------------------------

    def _contacts(self):
        """[(partner, number, email)] this reminder goes to; a missing address is False."""
        self.ensure_one()
        if self.audience == "customer":
            person = self.partner_id
            if not person:
                return []
            email = person.email_normalized or person.commercial_partner_id.email_normalized
            return [(person, self.number, email)]
        return [
            (user.partner_id, self._user_mobile(user), self._user_email(user))
            for user in self.task_id.user_ids
        ]

    @api.model
    def _user_mobile(self, user):
        raw = user.partner_id.mobile
        if not raw and "employee_ids" in user._fields:
            raw = user.employee_ids[:1].mobile_phone
        if not raw:
            return False
        try:
            return phone.normalize(raw, user.partner_id._phone_region())
        except phone.InvalidPhone:
            return False

    @api.model
    def _user_email(self, user):
        email = user.partner_id.email_normalized
        if not email and "employee_ids" in user._fields:
            email = user.employee_ids[:1].work_email
        return email or False

    def _missing_contacts(self):
        """Human sentences naming who lacks what for these enabled reminders."""
        problems = []
        for line in self.filtered("enabled"):
            if line.audience == "customer" and not line.partner_id:
                problems.append(self.env._("The customer reminder needs a customer on the task."))
                continue
            for partner, number, email in line._contacts():
                if line.channel == "sms" and not number:
                    problems.append(
                        self.env._(
                            "%(name)s has no mobile number for the SMS reminder.",
                            name=partner.display_name,
                        )
                    )
                elif line.channel == "email" and not email:
                    problems.append(
                        self.env._(
                            "%(name)s has no e-mail address for the e-mail reminder.",
                            name=partner.display_name,
                        )
                    )
            if line.channel == "sms" and not line.sms_template_id:
                problems.append(self.env._("The SMS reminder needs a template."))
            elif line.channel == "email" and not line.mail_template_id:
                problems.append(self.env._("The e-mail reminder needs a template."))
        return list(dict.fromkeys(problems))

    @api.constrains("enabled", "channel", "number", "partner_id", "task_id")
    def _check_contacts(self):
        self.task_id._check_insurance_reminder_contacts()
