"""Review and send: the recipients of a bulk send, and its numbers, before it starts.

The list is the queue's own preparation of each message
(``insurance.notify.message._prepare_queue``), so who is skipped and why is
what the send will record; the texts are rendered as the dispatcher will
write them, so the parts and the cost are those of the messages that leave,
added up. A client the broker unticks is kept on the send as excluded and gets
no message at all.
"""

from odoo import api, fields, models
from odoo.tools import formatLang


class InsuranceNotifyBatchStart(models.TransientModel):
    _name = "insurance.notify.batch.start"
    _description = "Review and Send a Bulk Send"

    batch_id = fields.Many2one(
        "insurance.notify.batch", string="Bulk Send", required=True, ondelete="cascade"
    )
    channel = fields.Selection(related="batch_id.channel")
    line_ids = fields.One2many(
        "insurance.notify.batch.start.line", "wizard_id", string="Recipients"
    )
    message_count = fields.Integer(string="Messages to Send", compute="_compute_totals")
    skipped_count = fields.Integer(string="Skipped", compute="_compute_totals")
    fail_count = fields.Integer(
        string="Will Fail",
        compute="_compute_totals",
        help="Texts over the part limit or that cannot be written: recorded as failed.",
    )
    excluded_count = fields.Integer(string="Clients Unticked", compute="_compute_totals")
    sms_parts = fields.Integer(
        string="SMS Parts in All",
        compute="_compute_totals",
        help="The parts of every message that will leave, added up.",
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_totals")
    cost = fields.Monetary(
        string="Estimated Cost in All",
        compute="_compute_totals",
        help="The parts in all times the gateway's cost per part.",
    )
    summary = fields.Char(compute="_compute_totals")

    @api.depends("line_ids.included", "batch_id")
    def _compute_totals(self):
        for wizard in self:
            lines = wizard.line_ids.filtered("included")
            wizard.message_count = sum(lines.mapped("send_count"))
            wizard.skipped_count = sum(lines.mapped("skipped_count"))
            wizard.fail_count = sum(lines.mapped("fail_count"))
            wizard.excluded_count = len(wizard.line_ids) - len(lines)
            wizard.sms_parts = sum(lines.mapped("sms_parts"))
            gateway = wizard.batch_id._notify_gateway() if wizard.batch_id else None
            wizard.currency_id = (
                gateway and gateway.currency_id
            ) or wizard.batch_id.company_id.currency_id
            wizard.cost = sum(lines.mapped("cost"))
            if wizard.channel == "sms":
                wizard.summary = self.env._(
                    "%(count)s messages will leave, %(skipped)s are skipped: "
                    "%(parts)s SMS parts in all, about %(cost)s %(currency)s.",
                    count=wizard.message_count,
                    skipped=wizard.skipped_count,
                    parts=wizard.sms_parts,
                    # In the user's number format ("1,60" in Polish), with the
                    # currency's decimals: the same figure the form shows.
                    cost=formatLang(
                        self.env, wizard.cost, digits=wizard.currency_id.decimal_places or 2
                    ),
                    currency=wizard.currency_id.name or "",
                )
            else:
                wizard.summary = self.env._(
                    "%(count)s messages will leave, %(skipped)s are skipped.",
                    count=wizard.message_count,
                    skipped=wizard.skipped_count,
                )

    def _fill_lines(self):
        """One line per client the send's filters reach, excluded ones unticked."""
        self.ensure_one()
        batch = self.batch_id
        targets = batch._find_targets()
        prepared = batch._review_messages(targets) if targets else {}
        labels = dict(
            self.env["insurance.notify.message"]
            ._fields["reason_code"]
            ._description_selection(self.env)
        )
        by_partner = {}
        for vals in prepared.values():
            by_partner.setdefault(vals["partner_id"], []).append(vals)
        documents = self.env[batch.res_model].browse(
            list(dict.fromkeys(vals["res_id"] for vals in prepared.values()))
        )
        names = dict(zip(documents.ids, documents.mapped("display_name"), strict=True))
        excluded = set(batch.excluded_partner_ids.ids)
        lines = []
        for partner_id, messages in by_partner.items():
            sending = [m for m in messages if m["state"] == "queued"]
            failing = [m for m in sending if m["too_long"] or m["render_error"]]
            reasons = sorted(
                {
                    labels.get(m["reason_code"], m["reason_code"])
                    for m in messages
                    if m["reason_code"]
                }
                | ({self.env._("text too long")} if any(m["too_long"] for m in failing) else set())
                | (
                    {self.env._("text cannot be written")}
                    if any(m["render_error"] for m in failing)
                    else set()
                )
            )
            good = [m for m in sending if m not in failing]
            lines.append(
                {
                    "wizard_id": self.id,
                    "partner_id": partner_id,
                    "documents": ", ".join(names.get(m["res_id"], "") for m in messages),
                    "channel": messages[0]["channel"],
                    "number": messages[0]["number"] or False,
                    "email": messages[0]["email"] or False,
                    "send_count": len(good),
                    "skipped_count": len(messages) - len(sending),
                    "fail_count": len(failing),
                    "reason": ", ".join(reasons) or False,
                    "sms_parts": sum(m["sms_parts"] for m in good),
                    "cost": sum(m["cost"] for m in good),
                    "included": partner_id not in excluded,
                }
            )
        self.env["insurance.notify.batch.start.line"].create(lines)

    def _save_exclusions(self):
        self.ensure_one()
        # The review is its user's (record rule): nobody sends another's ticks.
        self.check_access("write")
        batch = self.batch_id
        batch._check_manager()
        batch._check_ready()
        batch.excluded_partner_ids = self.line_ids.filtered(
            lambda line: not line.included
        ).partner_id

    def action_save(self):
        """Keep the ticks on the send without starting it."""
        self._save_exclusions()
        return {"type": "ir.actions.act_window_close"}

    def action_send(self):
        """Start the send for the ticked clients."""
        self._save_exclusions()
        self.batch_id.action_start()
        return {"type": "ir.actions.act_window_close"}
