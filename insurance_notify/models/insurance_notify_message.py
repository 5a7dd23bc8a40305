import threading

from odoo import api, fields, models

DEFAULT_WINDOW = (8.0, 20.0, None)
PARAM_EMAIL_FROM = "insurance_notify.email_from"
PARAM_MAIL_SERVER = "insurance_notify.mail_server_id"


class InsuranceNotifyMessage(models.Model):
    _name = "insurance.notify.message"
    _description = "Notification"
    _order = "scheduled_at desc, id desc"
    _rec_name = "key"

    key = fields.Char(
        required=True,
        readonly=True,
        index=True,
        copy=False,
        help="Rule, record, offset, channel and event date: a message is never created "
        "twice, and the gateway refuses a key it has already sent.",
    )
    rule_id = fields.Many2one(
        "insurance.notify.rule", index=True, readonly=True, ondelete="restrict"
    )
    sms_template_id = fields.Many2one(
        "sms.template", readonly=True, help="For messages no rule planned; else the rule's."
    )
    mail_template_id = fields.Many2one(
        "mail.template", readonly=True, help="For messages no rule planned; else the rule's."
    )
    batch_id = fields.Many2one(
        "insurance.notify.batch",
        string="Bulk Send",
        index="btree_not_null",
        readonly=True,
        ondelete="restrict",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    res_model = fields.Char(string="Document Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", required=True, readonly=True
    )
    policy_id = fields.Many2one("insurance.policy", index=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Recipient", index=True, readonly=True)
    channel = fields.Selection([("sms", "SMS"), ("email", "E-mail")], required=True, readonly=True)
    email = fields.Char(readonly=True)
    offset = fields.Integer(string="Days Before", readonly=True)
    event_date = fields.Date(readonly=True)
    scheduled_at = fields.Datetime(string="Scheduled", index=True, readonly=True)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sending", "Sending"),
            ("sent", "Sent"),
            ("delivered", "Delivered"),
            ("failed", "Failed"),
            ("skipped", "Skipped"),
            ("cancelled", "Cancelled"),
        ],
        default="queued",
        required=True,
        index=True,
        readonly=True,
    )
    reason = fields.Char(readonly=True)
    error_class = fields.Char(
        string="Gateway Error",
        readonly=True,
        help="The provider-independent class of the gateway's refusal "
        "(authorization, credits, invalid_number…).",
    )
    body = fields.Text(readonly=True)
    number = fields.Char(readonly=True)
    timezone = fields.Char(readonly=True)
    sms_parts = fields.Integer(string="SMS Parts", readonly=True)
    sms_encoding = fields.Char(string="Encoding", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    cost = fields.Monetary(
        readonly=True, help="Parts sent times the gateway's cost per part (an estimate)."
    )
    gateway_id = fields.Many2one("insurance.notify.gateway", readonly=True)
    provider_ref = fields.Char(string="Provider ID", index=True, readonly=True)
    is_sandbox = fields.Boolean(
        string="Sandbox (not sent)",
        readonly=True,
        help="Handled by the sandbox gateway: kept here, never sent to the client's phone.",
    )
    attempts = fields.Integer(readonly=True)
    sending_since = fields.Datetime(readonly=True)
    sent_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("key_unique", "UNIQUE (key)", "This notification has already been planned."),
    ]

    # ------------------------------------------------------------------
    # The clock: crons read the time here, so tests can freeze it.
    # ------------------------------------------------------------------

    @api.model
    def _now(self):
        return fields.Datetime.now()

    @api.model
    def _today(self):
        return self._now().date()

    @api.model
    def _commit(self):
        """Crons commit their progress; tests run in one transaction."""
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _commit_progress(self, done, remaining):
        """Commit a cron's finished batch and report it."""
        self._commit()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
