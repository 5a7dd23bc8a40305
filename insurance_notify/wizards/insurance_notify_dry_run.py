"""What the planner would send on a day, without planning anything.

The dry run asks the planner's own pieces — the rule's occurrences, the
recipients and their consent, the skip reasons, the keys already taken, the
templates and the SMS analysis — and writes only its own transient lines:
``insurance.notify.message`` is never written.
"""

from collections import Counter
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every
from odoo.tools.misc import format_date

from ..lib.notify_engine import schedule, sms
from ..tools.safe_eval_cache import compile_once

# The columns of a dry-run line the wizard writes (the others are Odoo's own).
LINE_COLUMNS = (
    "wizard_id", "rule_id", "record_ref", "partner_id", "policy_id", "channel", "number",
    "email", "offset", "event_date", "variant", "scheduled_at", "text", "sms_encoding",
    "sms_parts", "currency_id", "cost", "state", "reason",
)  # fmt: skip

LINE_STATES = [
    ("send", "Will be sent"),
    ("skip", "Skipped"),
    ("fail", "Would fail"),
    ("planned", "Already planned"),
]


class InsuranceNotifyDryRun(models.TransientModel):
    _name = "insurance.notify.dry.run"
    _description = "Notification Dry Run"

    day = fields.Date(
        required=True,
        default=lambda self: self.env["insurance.notify.message"]._today() + timedelta(days=1),
        help="The day whose planning run is simulated.",
    )
    rule_ids = fields.Many2many(
        "insurance.notify.rule",
        string="Automatic Notifications",
        default=lambda self: self._default_rules(),
        help="Empty: every active automatic notification.",
    )
    line_ids = fields.One2many(
        "insurance.notify.dry.run.line",
        "wizard_id",
        string="Will Be Sent",
        domain=[("state", "=", "send")],
        readonly=True,
    )
    left_out_ids = fields.One2many(
        "insurance.notify.dry.run.line",
        "wizard_id",
        string="Not Sent",
        domain=[("state", "!=", "send")],
        readonly=True,
    )
    done = fields.Boolean(readonly=True)
    message_count = fields.Integer(string="Messages", compute="_compute_totals")
    sms_count = fields.Integer(string="SMS", compute="_compute_totals")
    whatsapp_count = fields.Integer(string="WhatsApp", compute="_compute_totals")
    email_count = fields.Integer(string="E-mails", compute="_compute_totals")
    sms_parts = fields.Integer(string="SMS Parts", compute="_compute_totals")
    currency_id = fields.Many2one("res.currency", compute="_compute_totals")
    cost = fields.Monetary(string="Estimated Cost", compute="_compute_totals")
    left_out_count = fields.Integer(string="Left Out", compute="_compute_totals")
    left_out_summary = fields.Text(string="Left Out By Reason", compute="_compute_totals")

    @api.depends("day")
    @api.depends_context("lang")
    def _compute_display_name(self):
        # The window title and breadcrumb, instead of "insurance.notify.dry.run,2".
        for wizard in self:
            wizard.display_name = self.env._(
                "Dry run for %(day)s", day=format_date(self.env, wizard.day) if wizard.day else ""
            )

    @api.model
    def _default_rules(self):
        if self.env.context.get("active_model") == "insurance.notify.rule":
            return self.env["insurance.notify.rule"].browse(self.env.context.get("active_ids"))
        return self.env["insurance.notify.rule"].search([("active", "=", True)])

    @api.depends("line_ids", "left_out_ids")
    def _compute_totals(self):
        for wizard in self:
            sending = wizard.line_ids
            sms_lines = sending.filtered(lambda line: line.channel == "sms")
            whatsapp_lines = sending.filtered(lambda line: line.channel == "whatsapp")
            wizard.message_count = len(sending)
            wizard.sms_count = len(sms_lines)
            wizard.whatsapp_count = len(whatsapp_lines)
            wizard.email_count = len(sending) - len(sms_lines) - len(whatsapp_lines)
            wizard.sms_parts = sum(sms_lines.mapped("sms_parts"))
            paid = sms_lines | whatsapp_lines
            wizard.currency_id = paid[:1].currency_id or self.env.company.currency_id
            # SMS per part, WhatsApp at its template's category price: what the
            # dispatcher will record on each message.
            wizard.cost = sum(paid.mapped("cost"))
            wizard.left_out_count = len(wizard.left_out_ids)
            reasons = Counter(wizard.left_out_ids.mapped("reason"))
            wizard.left_out_summary = "\n".join(
                f"{reason}: {count}" for reason, count in reasons.most_common()
            )

    def action_run(self):
        """(Re)compute the lines and show them."""
        self.ensure_one()
        self.check_access("write")
        self.env["insurance.notify.dry.run.line"].search([("wizard_id", "=", self.id)]).unlink()
        rules = self.rule_ids or self.env["insurance.notify.rule"].search([("active", "=", True)])
        # The rules are simulated with sudo: the user must be able to read each
        # one (its company's), however the wizard was filled over RPC.
        rules.check_access("read")
        vals_list = []
        with compile_once():
            for rule in rules.sudo():
                vals_list += self._simulate(rule, self.day)
        self.env["insurance.notify.dry.run.line"]._insert(
            [{**vals, "wizard_id": self.id} for vals in vals_list]
        )
        self.done = True
        return True

    @api.model
    def _simulate(self, rule, day):
        """The lines of what ``rule``'s planning run on ``day`` would create:
        the queue's own preparation of each message, run at the day's start."""
        Message = self.env["insurance.notify.message"]
        occurrences = rule._find_occurrences(day, day)
        if not occurrences:
            return []
        company_tz = schedule.resolve_timezone(rule.company_id.partner_id.tz)
        day_start = Message._local_day_start(day, company_tz)
        prepared = Message._prepare_queue(rule, rule._queue_items(occurrences), now=day_start)
        # A key taken by a message left out for a reason that no longer holds
        # is not "already planned": the run queues that message after all.
        taken = {
            message.key
            for message in Message.sudo()
            .with_context(active_test=False)
            .search([("key", "in", list(prepared))])
            if not message._revives(prepared[message.key])
        }
        gateway = rule._notify_gateway()
        whatsapp_gateway = (
            rule._notify_whatsapp_gateway() if "whatsapp" in rule._notify_channels() else None
        )
        labels = dict(Message._fields["reason_code"]._description_selection(self.env))
        by_channel = {}
        for vals in prepared.values():
            by_channel.setdefault((vals["channel"], vals["variant"]), []).append(vals["res_id"])
        texts = self._render_texts(rule, by_channel)
        transliterate, max_parts = rule._notify_sms_options()
        vals_list = []
        for key, message in prepared.items():
            vals = {
                "rule_id": rule.id,
                "record_ref": f"{rule.res_model},{message['res_id']}",
                "partner_id": message["partner_id"],
                "policy_id": message["policy_id"],
                "channel": message["channel"],
                "number": message["number"],
                "email": message["email"],
                "offset": message["offset"],
                "event_date": message["event_date"],
                "variant": message["variant"],
                "state": "send",
                # E-mails cost nothing, in the same currency as the SMS beside them.
                "currency_id": (gateway.currency_id or rule.company_id.currency_id).id,
            }
            if key in taken:
                vals.update(state="planned", reason=self.env._("already planned or sent"))
            elif message["state"] == "skipped":
                vals.update(state="skip", reason=labels.get(message["reason_code"]))
            else:
                vals["scheduled_at"] = message["scheduled_at"]
            text = texts.get((message["channel"], message["variant"], message["res_id"]))
            if message["channel"] == "whatsapp" and message["state"] != "skipped":
                text = self._whatsapp_text(rule, message)
                if whatsapp_gateway:
                    partner = self.env["res.partner"].browse(message["partner_id"])
                    vals.update(
                        currency_id=whatsapp_gateway.currency_id.id or vals["currency_id"],
                        cost=whatsapp_gateway._message_cost(
                            "whatsapp", 1, rule._notify_whatsapp_template(partner)
                        ),
                    )
            if isinstance(text, UserError):
                if vals["state"] == "send":
                    vals.update(state="fail", reason=str(text.args[0]))
            elif message["channel"] == "sms" and text is not None:
                analysis = sms.analyze(text, transliterate=transliterate)
                vals.update(
                    text=analysis.text,
                    sms_encoding=analysis.encoding,
                    sms_parts=analysis.parts,
                    cost=analysis.parts * gateway.cost_per_part,
                )
                if vals["state"] == "send" and max_parts and analysis.parts > max_parts:
                    vals.update(
                        state="fail",
                        reason=labels["too_long"] % {"parts": analysis.parts, "limit": max_parts},
                    )
            elif text is not None:
                vals["text"] = text
            vals_list.append(vals)
        return vals_list

    @api.model
    def _whatsapp_text(self, rule, message):
        """The text of the WhatsApp template the client would get (or the UserError)."""
        partner = self.env["res.partner"].browse(message["partner_id"])
        template = rule._notify_whatsapp_template(partner)
        if not template:
            return None
        try:
            lang_template = template.with_context(lang=partner.lang)
            return lang_template._render_text([message["res_id"]])[message["res_id"]]
        except UserError as error:
            return error

    @api.model
    def _render_texts(self, rule, by_channel):
        """(channel, variant, res_id) -> SMS body or e-mail subject (or the UserError)."""
        texts = {}
        for (channel, variant), res_ids in by_channel.items():
            sms_template, mail_template = rule._notify_templates(variant)
            template = sms_template if channel == "sms" else mail_template
            if not res_ids or not template or channel == "whatsapp":
                continue
            try:
                # compute_lang: each text in its recipient's language (the
                # template's ``lang``), as the dispatcher renders it, never
                # in the language of whoever looks at the dry run.
                field = "body" if channel == "sms" else "subject"
                rendered = template._render_field(field, res_ids, compute_lang=True)
            except UserError as error:
                texts.update({(channel, variant, res_id): error for res_id in res_ids})
                continue
            texts.update({(channel, variant, res_id): rendered[res_id] or "" for res_id in res_ids})
        return texts


class InsuranceNotifyDryRunLine(models.TransientModel):
    _name = "insurance.notify.dry.run.line"
    _description = "Notification Dry Run Line"
    _order = "state, rule_id, partner_id, id"

    wizard_id = fields.Many2one(
        "insurance.notify.dry.run", required=True, ondelete="cascade", index=True
    )
    rule_id = fields.Many2one("insurance.notify.rule", string="Automatic Notification")
    record_ref = fields.Reference(string="Record", selection="_selection_record_models")
    partner_id = fields.Many2one("res.partner", string="Recipient")
    policy_id = fields.Many2one("insurance.policy")
    channel = fields.Selection([("sms", "SMS"), ("email", "E-mail"), ("whatsapp", "WhatsApp")])
    number = fields.Char()
    email = fields.Char()
    offset = fields.Integer(string="Days Before")
    event_date = fields.Date()
    variant = fields.Selection([("a", "A"), ("b", "B")], help="The rule's template it uses.")
    scheduled_at = fields.Datetime(string="Leaves At")
    text = fields.Text(help="The SMS as sent, or the e-mail's subject.")
    sms_encoding = fields.Char(string="Encoding")
    sms_parts = fields.Integer(string="Parts")
    currency_id = fields.Many2one("res.currency")
    cost = fields.Monetary(string="Estimated Cost")
    state = fields.Selection(LINE_STATES, required=True, default="send")
    reason = fields.Char()

    @api.model
    def _insert(self, vals_list):
        """Insert the lines in one statement per 5,000.

        A day of the bench book is thousands of lines whose values are all
        known: the ORM's create validated each line's record reference with two
        queries of its own (the models it may name, the record's existence)
        although every record comes from the planner's own search.
        """
        self.check_access("create")
        if not vals_list:
            return self.browse()
        self.env.flush_all()
        uid, now = self.env.uid, self.env.cr.now()
        columns = SQL(", ").join(
            SQL.identifier(column)
            for column in (*LINE_COLUMNS, "create_uid", "create_date", "write_uid", "write_date")
        )
        ids = []
        for chunk in split_every(5000, vals_list):
            # One array a column, cast to the column's type: a handful of
            # parameters however many lines.
            arrays = SQL(", ").join(
                SQL(
                    "%s::%s[]",
                    [self._column_value(column, vals) for vals in chunk],
                    SQL(self._fields[column].column_type[1]),
                )
                for column in LINE_COLUMNS
            )
            query = SQL(
                "INSERT INTO insurance_notify_dry_run_line (%s) "
                "SELECT *, %s, %s, %s, %s FROM unnest(%s) RETURNING id",
                columns, uid, now, uid, now, arrays,
            )  # fmt: skip
            ids += [row[0] for row in self.env.execute_query(query)]
        # The wizard's one2many fields must see them.
        self.env.invalidate_all()
        return self.browse(ids)

    def _column_value(self, column, vals):
        # What the ORM's create stores: False is empty, 0 a value, "send" the default.
        value = vals.get(column, "send" if column == "state" else None)
        return None if value is False else value

    @api.model
    def _selection_record_models(self):
        sources = self.env["insurance.notify.sender"]._notify_event_sources()
        models_ = sorted({source.model for source in sources.values()})
        names = {
            model.model: model.name
            for model in self.env["ir.model"].sudo().search([("model", "in", models_)])
        }
        return [(model, names.get(model, model)) for model in models_]
