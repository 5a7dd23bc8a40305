"""Bulk sends and broadcasts: messages started by hand, sent by the dispatcher.

A bulk send picks records the way an automatic rule does (installments due,
policies ending, technical inspections) or all clients, filtered by broker,
insurer, product and a date range; a broadcast sends a free text to chosen
clients. Either way its messages go into the one queue, with the same
recipients, consent, sending windows and unique keys as every other message,
and the dispatcher cron sends them in the background. STOP cancels what has
not left yet.

Never twice: a bulk send's key is ``batch-<id>-<model>-<record>-<channel>``, so
one run sends one message per record. A service reminder about a record that
another message (an automatic rule's or another run's) already reached in the
last 24 hours is skipped as "already reminded", not sent again.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_datetime

from odoo.addons.base.models.res_partner import _tz_get

from ..lib.notify_engine import sms

# What a bulk send can be about; service reminders rest on the contract.
TARGETS = [
    ("installment_due", "Installments due"),
    ("policy_expiry", "Policies ending"),
    ("inspection_expiry", "Technical inspections"),
    ("all_clients", "All clients"),
]
SERVICE_TARGETS = ("installment_due", "policy_expiry", "inspection_expiry")
# A text typed on the form may not exceed this many SMS parts unless an
# administrator raises the limit in the settings (res.config.settings).
PARAM_FREE_TEXT_MAX_PARTS = "insurance_notify.free_text_max_parts"
DEFAULT_FREE_TEXT_MAX_PARTS = 10

COUNT_STATES = {
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "sent",
    "failed": "failed",
    "skipped": "skipped",
    "cancelled": "cancelled",
}


class InsuranceNotifyBatch(models.Model):
    _name = "insurance.notify.batch"
    _description = "Bulk Send"
    _inherit = ["mail.thread", "insurance.notify.sender"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, default=lambda self: self._default_name())
    kind = fields.Selection(
        [("bulk", "Bulk send"), ("broadcast", "Broadcast")],
        required=True,
        default="bulk",
        readonly=True,
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("stopped", "Stopped"),
            ("done", "Done"),
        ],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        copy=False,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    target = fields.Selection(
        TARGETS,
        string="About",
        default="policy_expiry",
        help="Bulk sends: the records to remind of. Broadcasts go to the chosen clients.",
    )
    channel = fields.Selection([("sms", "SMS"), ("email", "E-mail")], required=True, default="sms")
    res_model = fields.Char(compute="_compute_res_model")
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain="[('model', '=', res_model)]",
        help="Leave empty to send the text below to everyone.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="E-mail Template",
        domain="[('model', '=', res_model)]",
        help="Leave empty to send the subject and text below to everyone.",
    )
    subject = fields.Char(help="Subject of an e-mail written here (no template).")
    body = fields.Text(string="Text", help="The message, when no template is chosen.")
    date_from = fields.Date(string="From", help="First day of the due dates, end dates...")
    date_to = fields.Date(string="To", help="Last day of the due dates, end dates...")
    user_ids = fields.Many2many(
        "res.users",
        "insurance_notify_batch_user_rel",
        "batch_id",
        "user_id",
        string="Brokers",
        check_company=True,
    )
    insurer_ids = fields.Many2many(
        "res.partner",
        "insurance_notify_batch_insurer_rel",
        "batch_id",
        "partner_id",
        string="Insurers",
        domain=[("is_insurer", "=", True)],
        check_company=True,
    )
    product_ids = fields.Many2many(
        "insurance.product",
        "insurance_notify_batch_product_rel",
        "batch_id",
        "product_id",
        string="Products",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "insurance_notify_batch_partner_rel",
        "batch_id",
        "partner_id",
        string="Clients",
        domain=[("is_insurer", "=", False)],
        check_company=True,
    )
    excluded_partner_ids = fields.Many2many(
        "res.partner",
        "insurance_notify_batch_excluded_partner_rel",
        "batch_id",
        "partner_id",
        string="Excluded Clients",
        help="Clients unticked in the review: they get no message from this send.",
    )
    consent_mode = fields.Selection(
        compute="_compute_consent_mode",
        store=True,
        precompute=True,
        readonly=False,
        help="Broadcasts and messages to all clients are marketing: they need marketing "
        "consent. Service reminders follow the automatic rule of the same kind.",
    )
    consent_override = fields.Boolean(
        string="Override Consent",
        copy=False,
        help="Send service reminders to clients who have not given the consent chosen above. "
        "Not possible for marketing; a blacklisted number or address (STOP) is never "
        "overridden. Logged with the name of who used it.",
    )
    opt_out_line = fields.Boolean(
        string="Add Opt-out Line",
        compute="_compute_opt_out_line",
        store=True,
        precompute=True,
        readonly=False,
        help="End each SMS with the gateway's opt-out text (e.g. 'STOP to 4xxxx').",
    )
    gateway_id = fields.Many2one(
        "insurance.notify.gateway",
        string="SMS Gateway",
        domain="[('company_id', '=', company_id)]",
        check_company=True,
        help="Leave empty to use the company's default gateway.",
    )
    sms_sender = fields.Char(
        string="SMS Sender", help="A sender name registered with the provider; else the gateway's."
    )
    email_from = fields.Char(
        string="E-mail From", help="The From address of e-mails written here; else the company's."
    )
    timezone = fields.Selection(
        _tz_get,
        default="Europe/Warsaw",
        required=True,
        help="Used for clients whose card and company have no timezone.",
    )
    stopped_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    notify_message_ids = fields.One2many(
        "insurance.notify.message", "batch_id", string="Notifications", readonly=True
    )

    total_count = fields.Integer(string="Total", compute="_compute_counts")
    queued_count = fields.Integer(string="Waiting", compute="_compute_counts")
    sent_count = fields.Integer(string="Sent", compute="_compute_counts")
    failed_count = fields.Integer(string="Failed", compute="_compute_counts")
    skipped_count = fields.Integer(string="Skipped", compute="_compute_counts")
    cancelled_count = fields.Integer(string="Cancelled", compute="_compute_counts")
    progress = fields.Float(
        compute="_compute_counts",
        help="Share of the messages to send that have left (sent or failed); skipped and "
        "cancelled ones are not counted, so nothing sent shows 0 %.",
    )
    waiting_note = fields.Char(
        string="Waiting for the Window",
        compute="_compute_counts",
        help="Messages queued for later: outside the sending hours they wait for the window.",
    )

    recipient_count = fields.Integer(
        string="Recipients",
        compute="_compute_estimate",
        help="Messages matching the filters, before consent and numbers are checked; "
        "Review Recipients shows who is skipped and why.",
    )
    preview = fields.Text(compute="_compute_estimate")
    # Per message: the first recipient's text; the review and the confirmation
    # add up every message's own parts.
    sms_parts = fields.Integer(
        string="SMS Parts per Message",
        compute="_compute_estimate",
        help="Parts of the first recipient's SMS; a text with the client's name may "
        "differ from one client to the next.",
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_estimate")
    cost_estimate = fields.Monetary(
        string="Estimated Cost",
        compute="_compute_estimate",
        help="Recipients times the parts per message times the gateway's cost per part; "
        "the confirmation gives the total over the messages that will really leave.",
    )

    @api.model
    def _default_name(self):
        if self.env.context.get("default_kind") == "broadcast":
            return self.env._("New broadcast")
        return self.env._("New bulk send")

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("kind", "target")
    def _compute_res_model(self):
        for batch in self:
            if batch.kind == "broadcast" or batch.target == "all_clients":
                batch.res_model = "res.partner"
            else:
                sources = self._notify_event_sources()
                batch.res_model = sources[batch.target or "policy_expiry"].model

    def _is_marketing(self):
        self.ensure_one()
        return self.kind == "broadcast" or self.target not in SERVICE_TARGETS

    @api.depends("kind", "target", "company_id")
    def _compute_consent_mode(self):
        for batch in self:
            if batch._is_marketing():
                batch.consent_mode = "general"
                continue
            rule = self.env["insurance.notify.rule"].search(
                [("event_type", "=", batch.target), ("company_id", "=", batch.company_id.id)],
                limit=1,
            )
            batch.consent_mode = rule.consent_mode or "none"

    @api.depends("kind", "target")
    def _compute_opt_out_line(self):
        for batch in self:
            batch.opt_out_line = batch._is_marketing()

    def _compute_counts(self):
        counts = {
            (batch, state): count
            for batch, state, count in self.env["insurance.notify.message"]._read_group(
                [("batch_id", "in", self.ids)], ["batch_id", "state"], ["__count"]
            )
        }
        for batch in self:
            totals = dict.fromkeys(set(COUNT_STATES.values()), 0)
            for state, column in COUNT_STATES.items():
                totals[column] += counts.get((batch, state), 0)
            total = sum(totals.values())
            batch.total_count = total
            batch.queued_count = totals["queued"]
            batch.sent_count = totals["sent"]
            batch.failed_count = totals["failed"]
            batch.skipped_count = totals["skipped"]
            batch.cancelled_count = totals["cancelled"]
            # Skipped messages are not "done" work: a send whose clients were
            # mostly skipped showed 58 % with nothing sent.
            to_send = totals["sent"] + totals["failed"] + totals["queued"]
            left = totals["sent"] + totals["failed"]
            batch.progress = 100.0 * left / to_send if to_send else 0.0
            batch.waiting_note = False
        self._compute_waiting_note()

    def _compute_waiting_note(self):
        """Say when queued messages wait for the sending window (e.g. until 08:00)."""
        batches = self.filtered("id")  # a form not yet saved has no messages
        if not batches:
            return
        Message = self.env["insurance.notify.message"]
        now = Message._now()
        waiting = {
            batch: (count, first)
            for batch, count, first in Message.sudo()._read_group(
                [
                    ("batch_id", "in", batches.ids),
                    ("state", "=", "queued"),
                    ("scheduled_at", ">", now),
                ],
                ["batch_id"],
                ["__count", "scheduled_at:min"],
            )
        }
        for batch in batches:
            count, first = waiting.get(batch, (0, None))
            if count:
                batch.waiting_note = self.env._(
                    "%(count)s messages wait for the sending window; the first leaves at %(date)s.",
                    count=count,
                    date=format_datetime(self.env, first, dt_format="short"),
                )

    @api.depends(
        "kind",
        "target",
        "channel",
        "sms_template_id",
        "mail_template_id",
        "subject",
        "body",
        "date_from",
        "date_to",
        "user_ids",
        "insurer_ids",
        "product_ids",
        "partner_ids",
        "excluded_partner_ids",
        "opt_out_line",
        "sms_transliterate",
        "gateway_id",
        "company_id",
    )
    def _compute_estimate(self):
        for batch in self:
            targets = batch._select_targets()
            gateway = batch._notify_gateway()
            batch.recipient_count = len(targets)
            batch.currency_id = gateway.currency_id or batch.company_id.currency_id
            batch.preview = batch._preview(targets[0][0] if targets else None)
            batch.sms_parts = 0
            batch.cost_estimate = 0.0
            if batch.channel != "sms" or not batch.preview:
                continue
            # The same function as the review (_review_messages): the same
            # transliteration, opt-out line and skipped clients, so the form and
            # the review never disagree on parts and cost.
            leaving = batch._sms_estimate(targets)
            if leaving:
                batch.sms_parts = leaving[0]["sms_parts"]
                batch.cost_estimate = sum(vals["cost"] for vals in leaving)
            else:
                batch.sms_parts = batch._sms_analyze(batch.preview, suffixed=True).parts

    def _sms_estimate(self, targets):
        """The messages of ``targets`` that will leave, as the review counts them."""
        self.ensure_one()
        if not targets:
            return []
        prepared = self._review_messages(targets)
        return [
            vals
            for vals in prepared.values()
            if vals["state"] == "queued"
            and vals["channel"] == "sms"
            and not vals["too_long"]
            and not vals["render_error"]
        ]

    def _sms_analyze(self, text, suffixed=False):
        """Parts and text of an SMS of this send: its transliterate box applies
        to the free text and to the template alike."""
        self.ensure_one()
        transliterate = self._notify_sms_options()[0]
        if not suffixed:
            text += self._opt_out_suffix()
        return sms.analyze(text, transliterate=transliterate)

    def _preview(self, res_id):
        """The message the first recipient gets (templates rendered for them)."""
        self.ensure_one()
        if self.channel == "sms":
            if self.sms_template_id:
                if not res_id:
                    return False
                text = self.sms_template_id._render_field("body", [res_id], compute_lang=True)[
                    res_id
                ]
            else:
                text = self.body
            # What the client receives: transliterated when the box is ticked,
            # with the opt-out line when the send appends it.
            return self._sms_analyze(text).text if text else False
        if self.mail_template_id:
            if not res_id:
                return False
            return self.mail_template_id._render_field("subject", [res_id])[res_id]
        if not (self.subject or self.body):
            return False
        return f"{self.subject or ''}\n\n{self.body or ''}".strip()

    # ------------------------------------------------------------------
    # The "rule" interface of insurance.notify.message._recipients()
    # ------------------------------------------------------------------

    def _consent_requirements(self):
        """(consent mode, specific consent field): an override lifts the consent a
        service reminder asks for (a blacklist still stops it)."""
        self.ensure_one()
        sources = self._notify_event_sources()
        source = sources.get(self.target) if not self._is_marketing() else None
        mode = "none" if self.consent_override else self.consent_mode
        return mode, source.specific_consent if source else None

    def _opt_out_suffix(self):
        self.ensure_one()
        if self.channel != "sms" or not self.opt_out_line:
            return ""
        text = self._notify_gateway().opt_out_text
        return f"\n{text}" if text else ""

    def _notify_key(self, item):
        return f"batch-{self.id}-{item.res_model}-{item.res_id}-{self.channel}"

    def _notify_free_text(self, message):
        """The text written on the send, when it has no template."""
        self.ensure_one()
        return self.body or False

    def _notify_mail_subject(self):
        self.ensure_one()
        return self.subject or self.name

    def _notify_email_from(self):
        self.ensure_one()
        return self.email_from or False

    def _notify_stopped(self):
        self.ensure_one()
        self.invalidate_recordset(["state", "stopped_by_id"])
        if self.state == "stopped":
            return "stopped", {"user": self.stopped_by_id.name or ""}
        return None

    def _notify_dispatched(self):
        self._check_finished()

    def _notify_suffix(self):
        return self._opt_out_suffix()

    # ------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------

    @api.constrains("consent_override", "consent_mode", "kind", "target")
    def _check_consent(self):
        for batch in self:
            if batch._is_marketing() and batch.consent_mode != "general":
                raise ValidationError(
                    self.env._("Broadcasts and messages to all clients need marketing consent.")
                )
            if batch.consent_override and batch._is_marketing():
                raise ValidationError(
                    self.env._(
                        "Marketing consent cannot be overridden: only service reminders "
                        "(installments, policy ends, inspections) allow it."
                    )
                )

    @api.model
    def _free_text_max_parts(self):
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_FREE_TEXT_MAX_PARTS)
        try:
            return int(value) if value else DEFAULT_FREE_TEXT_MAX_PARTS
        except ValueError:
            return DEFAULT_FREE_TEXT_MAX_PARTS

    @api.constrains(
        "body", "channel", "sms_template_id", "opt_out_line", "gateway_id", "sms_transliterate"
    )
    def _check_free_text_length(self):
        """A text typed here goes to every recipient as it is: a slip of the
        paste key must not send a 40-part SMS to the whole book."""
        limit = self._free_text_max_parts()
        for batch in self:
            if batch.channel != "sms" or batch.sms_template_id or not batch.body or not limit:
                continue
            parts = batch._sms_analyze(batch.body).parts
            if parts > limit:
                raise ValidationError(
                    self.env._(
                        "This text is %(parts)s SMS parts long; a typed text may have at most "
                        "%(limit)s. Shorten it, or ask an administrator to raise the limit "
                        "in the settings.",
                        parts=parts,
                        limit=limit,
                    )
                )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for batch in self:
            if batch.date_from and batch.date_to and batch.date_from > batch.date_to:
                raise ValidationError(self.env._("The date range ends before it starts."))

    @api.constrains("sms_template_id", "mail_template_id", "kind", "target")
    def _check_template_model(self):
        for batch in self:
            for template in (batch.sms_template_id, batch.mail_template_id):
                if template and template.model != batch.res_model:
                    raise ValidationError(
                        self.env._(
                            "The template %(template)s is written for %(model)s records, "
                            "but this send is about %(expected)s records.",
                            template=template.name,
                            model=template.model,
                            expected=batch.res_model,
                        )
                    )

    def _check_ready(self):
        self.ensure_one()
        if self.state != "draft":
            raise UserError(self.env._("This send has already been started."))
        if self.channel == "sms" and not (self.sms_template_id or (self.body or "").strip()):
            raise UserError(self.env._("Choose an SMS template or write the text."))
        if self.channel == "email" and not (
            self.mail_template_id or ((self.body or "").strip() and (self.subject or "").strip())
        ):
            raise UserError(self.env._("Choose an e-mail template or write a subject and text."))
        if self.kind == "broadcast" and not self.partner_ids:
            raise UserError(self.env._("Choose the clients to send to."))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def _check_manager(self):
        """Bulk sends are the managers' (their messages are written with sudo)."""
        if not self.env.user.has_group("insurance_notify.group_insurance_manager"):
            raise AccessError(self.env._("Only insurance managers can start or stop bulk sends."))
        self.check_access("write")

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        started = self.filtered(lambda batch: batch.state != "draft")
        if started:
            raise UserError(
                self.env._(
                    "The send %(name)s has been started: its messages are history and it "
                    "stays. Stop it instead.",
                    name=started[0].name,
                )
            )

    def action_start(self):
        """Queue this send's messages; the dispatcher sends them in the background."""
        self._check_manager()
        for batch in self:
            batch._check_ready()
            messages = batch._create_messages()
            batch.state = "running"
            queued = messages.filtered(lambda message: message.state == "queued")
            batch.message_post(
                body=self.env._(
                    "Started by %(user)s: %(queued)s messages queued, %(skipped)s skipped.",
                    user=self.env.user.name,
                    queued=len(queued),
                    skipped=len(messages) - len(queued),
                )
            )
            if batch.consent_override:
                batch.message_post(
                    body=self.env._(
                        "Consent override used by %(user)s: the clients' consent to this "
                        "notification was not required.",
                        user=self.env.user.name,
                    )
                )
            batch._check_finished()
        self.env.ref("insurance_notify.ir_cron_dispatch_notifications").sudo()._trigger()
        return True

    def action_stop(self):
        """Stop between messages: what has not left yet is cancelled."""
        self._check_manager()
        for batch in self.filtered(lambda batch: batch.state == "running"):
            batch.write({"state": "stopped", "stopped_by_id": self.env.user.id})
            queued = (
                self.env["insurance.notify.message"]
                .sudo()
                .search([("batch_id", "=", batch.id), ("state", "=", "queued")])
            )
            queued.write(
                {
                    "state": "cancelled",
                    "reason_code": "stopped",
                    "reason_params": {"user": self.env.user.name},
                }
            )
            batch.message_post(
                body=self.env._(
                    "Stopped by %(user)s: %(count)s messages cancelled.",
                    user=self.env.user.name,
                    count=len(queued),
                )
            )
        return True

    def action_resume(self):
        """Send what STOP cancelled: the same messages, under the same keys, so
        what already left never leaves twice."""
        self._check_manager()
        for batch in self:
            if batch.state != "stopped":
                raise UserError(self.env._("Only a stopped send can be resumed."))
            batch.write({"state": "running", "stopped_by_id": False})
            messages = batch._resume_messages()
            queued = messages.filtered(lambda message: message.state == "queued")
            batch.message_post(
                body=self.env._(
                    "Resumed by %(user)s: %(queued)s messages queued again, %(skipped)s skipped.",
                    user=self.env.user.name,
                    queued=len(queued),
                    skipped=len(messages) - len(queued),
                )
            )
            batch._check_finished()
        self.env.ref("insurance_notify.ir_cron_dispatch_notifications").sudo()._trigger()
        return True

    def action_review(self):
        """Open the list of recipients, with the numbers, before sending."""
        self.ensure_one()
        self._check_manager()
        self._check_ready()
        review = self.env["insurance.notify.batch.start"].create({"batch_id": self.id})
        review._fill_lines()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Review and Send"),
            "res_model": "insurance.notify.batch.start",
            "res_id": review.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_view_messages(self):
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "insurance_notify.action_insurance_notify_message"
        )
        action["domain"] = [("batch_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def _check_finished(self):
        """A running send with nothing left to send is done."""
        running = self.filtered(lambda batch: batch.state == "running")
        if not running:
            return
        pending = {
            batch
            for [batch] in self.env["insurance.notify.message"]
            .sudo()
            ._read_group(
                [("batch_id", "in", running.ids), ("state", "in", ("queued", "sending"))],
                ["batch_id"],
            )
        }
        for batch in running:
            if batch not in pending:
                batch.state = "done"
