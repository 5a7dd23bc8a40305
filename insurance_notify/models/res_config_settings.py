from odoo import api, fields, models

from .insurance_notify_batch import DEFAULT_FREE_TEXT_MAX_PARTS, PARAM_FREE_TEXT_MAX_PARTS
from .insurance_notify_composer import PARAM_EMAIL_FROM, PARAM_MAIL_SERVER
from .insurance_task_reminder import task_param
from .res_partner import PARAM_CONSENT_EMAIL, PARAM_CONSENT_PHONE, PARAM_PREVENT_DUPLICATES


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Per company: stock SMS stay on IAP until an administrator chooses.
    insurance_stock_sms_gateway_id = fields.Many2one(
        related="company_id.insurance_stock_sms_gateway_id",
        readonly=False,
        domain="[('company_id', '=', company_id)]",
        groups="base.group_system",
    )
    insurance_daily_cap = fields.Integer(related="company_id.insurance_daily_cap", readonly=False)
    insurance_weekly_cap = fields.Integer(related="company_id.insurance_weekly_cap", readonly=False)
    insurance_replies_user_id = fields.Many2one(
        related="company_id.insurance_replies_user_id", readonly=False
    )
    insurance_reply_renewal_words = fields.Char(
        related="company_id.insurance_reply_renewal_words", readonly=False
    )
    insurance_reply_call_back_words = fields.Char(
        related="company_id.insurance_reply_call_back_words", readonly=False
    )
    insurance_reply_target_hours = fields.Float(
        related="company_id.insurance_reply_target_hours", readonly=False
    )
    insurance_outcome_grace_days = fields.Integer(
        related="company_id.insurance_outcome_grace_days", readonly=False
    )
    insurance_reminder_gateway_id = fields.Many2one(
        "insurance.notify.gateway",
        string="Reminders go through",
        compute="_compute_insurance_reminder_gateway_id",
    )

    # Channels for service notifications only (reminders about the client's own
    # contract); marketing consent is never pre-ticked.
    insurance_default_consent_phone = fields.Boolean(
        string="Service notifications by SMS for new clients",
        config_parameter=PARAM_CONSENT_PHONE,
        help="New clients start with the SMS, WhatsApp and Viber channels ticked for "
        "service notifications (policy, installment and inspection reminders). Marketing "
        "consent is never ticked in advance: the client gives it.",
    )
    insurance_default_consent_email = fields.Boolean(
        string="Service notifications by e-mail for new clients",
        config_parameter=PARAM_CONSENT_EMAIL,
        help="New clients start with the e-mail channel ticked for service notifications. "
        "Marketing consent is never ticked in advance: the client gives it.",
    )
    insurance_free_text_max_parts = fields.Integer(
        string="Longest typed SMS (parts)",
        default=DEFAULT_FREE_TEXT_MAX_PARTS,
        config_parameter=PARAM_FREE_TEXT_MAX_PARTS,
        help="A bulk send or broadcast whose typed text is longer is refused. Templates "
        "have their own limit.",
    )
    insurance_prevent_duplicate_clients = fields.Boolean(
        string="Prevent duplicate clients",
        config_parameter=PARAM_PREVENT_DUPLICATES,
        # Off by default, as every consent setting: installing the add-on must not
        # start refusing contacts in stock flows (the Contacts app, imports); an
        # administrator opts in.
        default=False,
        help="Off until an administrator turns it on. When on, creating, editing or "
        "importing a client whose mobile number or e-mail another client already has "
        "is refused everywhere, the Contacts app included.",
    )

    # Task reminders: the defaults a new task starts with, per audience.
    insurance_task_customer_enabled = fields.Boolean(
        string="Remind customers of tasks", config_parameter=task_param("customer", "enabled")
    )
    insurance_task_customer_channel = fields.Selection(
        [("sms", "SMS"), ("email", "E-mail")],
        string="Customer channel",
        default="sms",
        config_parameter=task_param("customer", "channel"),
    )
    insurance_task_customer_sms_template_id = fields.Many2one(
        "sms.template",
        string="Customer SMS template",
        domain=[("model", "=", "project.task"), ("company_id", "=", False)],
        config_parameter=task_param("customer", "sms_template_id"),
    )
    insurance_task_customer_mail_template_id = fields.Many2one(
        "mail.template",
        string="Customer e-mail template",
        domain=[("model", "=", "project.task"), ("company_id", "=", False)],
        config_parameter=task_param("customer", "mail_template_id"),
    )
    insurance_task_customer_lead_time = fields.Float(
        string="Customer lead time",
        default=24.0,
        config_parameter=task_param("customer", "lead_time"),
    )
    insurance_task_operator_enabled = fields.Boolean(
        string="Remind operators of tasks", config_parameter=task_param("operator", "enabled")
    )
    insurance_task_operator_channel = fields.Selection(
        [("sms", "SMS"), ("email", "E-mail")],
        string="Operator channel",
        default="email",
        config_parameter=task_param("operator", "channel"),
    )
    insurance_task_operator_sms_template_id = fields.Many2one(
        "sms.template",
        string="Operator SMS template",
        domain=[("model", "=", "project.task"), ("company_id", "=", False)],
        config_parameter=task_param("operator", "sms_template_id"),
    )
    insurance_task_operator_mail_template_id = fields.Many2one(
        "mail.template",
        string="Operator e-mail template",
        domain=[("model", "=", "project.task"), ("company_id", "=", False)],
        config_parameter=task_param("operator", "mail_template_id"),
    )
    insurance_task_operator_lead_time = fields.Float(
        string="Operator lead time",
        default=1.0,
        config_parameter=task_param("operator", "lead_time"),
    )
    insurance_email_from = fields.Char(
        string="Reminders sent from",
        config_parameter=PARAM_EMAIL_FROM,
        help="The sender of every automatic e-mail; a template's own sender is ignored.",
    )
    insurance_mail_server_id = fields.Many2one(
        "ir.mail_server",
        string="Reminders mail server",
        config_parameter=PARAM_MAIL_SERVER,
        help="The outgoing mail server of every automatic e-mail; empty: Odoo's default.",
    )

    @api.depends("company_id")
    def _compute_insurance_reminder_gateway_id(self):
        for settings in self:
            settings.insurance_reminder_gateway_id = (
                settings.company_id._insurance_reminder_gateway()
            )
