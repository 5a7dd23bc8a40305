"""The queue: one row per notification, from planning to delivery.

Every producer (the rule planner, bulk sends and broadcasts, task reminders,
Send now, the test SMS) puts messages in through :meth:`_enqueue`; the
dispatcher cron (:meth:`_cron_dispatch`) is the only code that calls a
provider. What a message is sent with comes from its sender
(``insurance.notify.sender``), read one way whatever produced it.
"""

import logging
import re
import threading
from datetime import datetime, time

import pytz

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_datetime, split_every
from odoo.tools.sql import create_index

from ..lib.notify_engine import schedule
from .notify_reasons import REASONS, reason_text

_logger = logging.getLogger(__name__)

SENT_STATES = ("sent", "delivered")
# States a re-planned key may be brought back from (never from sent or failed).
REPLANNABLE = ("queued", "skipped", "cancelled")
# Reasons that describe a state of the record or the client that can change the
# same day (a draft validated, a payment undone, a number or a consent added).
# A message left out for one of them has not used up its occurrence: when a
# later planning finds the reason gone, the same message is queued (invariant 2,
# never lost). A reason decided by a person (cancelled by, stopped), by the
# calendar (the event passed) or by design (already reminded, control group)
# is final.
REVIVABLE_REASONS = frozenset(
    {
        "no_mobile",
        "no_email",
        "sms_blacklisted",
        "email_blacklisted",
        "no_sms_consent",
        "no_email_consent",
        "no_marketing_consent",
        "no_specific_consent",
        "consent_expired",
        "installment_paid",
        "policy_draft",
        "policy_cancelled",
    }
)


class InsuranceNotifyMessage(models.Model):
    _name = "insurance.notify.message"
    _inherit = [
        "insurance.notify.dispatch",
        "insurance.notify.composer",
        "insurance.notify.outcome",
    ]
    _description = "Notification"
    _order = "scheduled_at desc, id desc"
    _check_company_auto = True

    # Indexed by its UNIQUE constraint (key_unique). Every index costs each
    # message an entry per write: the dispatcher writes a message twice.
    key = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        help="Sender, record, offset, channel and event date: a message is never created "
        "twice, and the gateway refuses a key it has already sent.",
    )
    sender_ref = fields.Reference(
        selection="_selection_sender_ref",
        string="Sent By",
        required=True,
        index=True,
        readonly=True,
        help="What queued this message and what it is sent with: an automatic "
        "notification, a bulk send, a task reminder or a direct message (a test SMS).",
    )
    is_reminder = fields.Boolean(
        string="Automatic Reminder",
        readonly=True,
        help="Joined with the client's other reminders leaving at the same time into "
        "one SMS, and counted in the client's daily limit.",
    )
    # Links to the senders that list their messages (a One2many needs a
    # Many2one): filled from sender_ref, whatever the kind, by _sender_links().
    rule_id = fields.Many2one(
        "insurance.notify.rule",
        compute="_compute_sender_links",
        store=True,
        index=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    batch_id = fields.Many2one(
        "insurance.notify.batch",
        string="Bulk Send",
        compute="_compute_sender_links",
        store=True,
        index="btree_not_null",
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    task_reminder_id = fields.Many2one(
        "insurance.task.reminder",
        compute="_compute_sender_links",
        store=True,
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        check_company=True,
    )
    # Kept for the history of messages queued before senders held every setting.
    sms_template_id = fields.Many2one("sms.template", readonly=True)
    mail_template_id = fields.Many2one("mail.template", readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    res_model = fields.Char(string="Document Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", required=True, readonly=True
    )
    document_name = fields.Char(string="Document", compute="_compute_document_name")
    policy_id = fields.Many2one(
        "insurance.policy", index=True, readonly=True, ondelete="cascade", check_company=True
    )
    # Indexed with sent_at (see init): a client's messages, and what was sent
    # to the client lately (the daily and weekly caps).
    partner_id = fields.Many2one(
        "res.partner", string="Recipient", readonly=True, check_company=True
    )
    channel = fields.Selection(
        [("sms", "SMS"), ("email", "E-mail"), ("whatsapp", "WhatsApp")],
        required=True,
        readonly=True,
    )
    read_at = fields.Datetime(
        string="Read", readonly=True, help="When the client opened it (WhatsApp read receipt)."
    )
    email = fields.Char(readonly=True)
    offset = fields.Integer(string="Days Before", readonly=True)
    event_date = fields.Date(readonly=True)
    scheduled_at = fields.Datetime(string="Scheduled", index=True, readonly=True)
    due_at = fields.Datetime(
        string="First Due", readonly=True, help="When the message was first due to leave."
    )
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
    # Most messages have no reason and, until sent, no provider id: their
    # indexes hold only the messages that do (btree_not_null).
    reason_code = fields.Selection(
        REASONS, string="Reason Type", index="btree_not_null", readonly=True
    )
    reason_params = fields.Json(readonly=True)
    reason = fields.Char(compute="_compute_reason", help="In the viewer's language.")
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
        readonly=True,
        help="An SMS: the parts sent times the gateway's cost per part; a WhatsApp message: "
        "the gateway's price for its template's category (an estimate).",
    )
    gateway_id = fields.Many2one("insurance.notify.gateway", readonly=True, check_company=True)
    provider_ref = fields.Char(string="Provider ID", index="btree_not_null", readonly=True)
    is_sandbox = fields.Boolean(
        string="Sandbox (not sent)",
        readonly=True,
        help="Handled by the sandbox gateway: kept here, never sent to the client's phone.",
    )
    group_key = fields.Char(
        string="Sent Together",
        index="btree_not_null",
        readonly=True,
        help="Reminders for one client leaving together share one SMS; this is its key.",
    )
    attempts = fields.Integer(readonly=True)
    sending_since = fields.Datetime(readonly=True)
    lookup_needed = fields.Boolean(
        readonly=True,
        help="An earlier attempt may have reached a provider without idempotency keys: "
        "ask it before sending again.",
    )
    sent_at = fields.Datetime(readonly=True)
    variant = fields.Selection(
        [("a", "A"), ("b", "B")],
        readonly=True,
        help="The template it went with, when its rule compares two (template B).",
    )
    mail_mail_id = fields.Many2one(
        "mail.mail",
        string="Outgoing E-mail",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The outgoing e-mail of an e-mail notification, linked before it was "
        "handed to the mail server (it is never sent twice).",
    )

    _sql_constraints = [
        ("key_unique", "UNIQUE (key)", "This notification has already been planned."),
    ]

    def init(self):
        res = super().init()
        # "Sent Notifications" grouped by day reads the first 80 days and then
        # counts the other days, over the whole history: both walk this index
        # alone (company_id: the record rule; scheduled_at: so that no row is
        # read). Odoo groups by the day in the user's time zone, or in UTC
        # without one: one index for UTC and one for each company's zone.
        zones = {None}
        self.env.cr.execute(
            "SELECT DISTINCT p.tz FROM res_company c JOIN res_partner p ON p.id = c.partner_id"
        )
        zones.update(tz for (tz,) in self.env.cr.fetchall() if tz in pytz.all_timezones_set)
        for tz in sorted(zones, key=str):
            day = (
                "date_trunc('day', scheduled_at)"
                if tz is None
                else f"date_trunc('day', timezone('{tz}', timezone('UTC', scheduled_at)))"
            )
            suffix = "" if tz is None else "_" + re.sub(r"[^a-z0-9]+", "_", tz.lower())
            create_index(
                self.env.cr,
                f"insurance_notify_message_day{suffix}_index",
                self._table,
                [day, "company_id", "scheduled_at"],
            )
        # A client's messages (the client card) and, at each chunk, those sent
        # to the chunk's clients in the last week (the caps): through
        # partner_id alone, that read every message the client ever had.
        create_index(
            self.env.cr,
            "insurance_notify_message_partner_sent_index",
            self._table,
            ["partner_id", "sent_at"],
        )
        # The dispatcher takes the next due messages in the order they are
        # due: through scheduled_at's own index it walked the whole history
        # (every message ever sent is due in the past) to find the queued
        # ones, 0.3 s a chunk on 1,000,000 sent. This one holds the queue only.
        create_index(
            self.env.cr,
            "insurance_notify_message_queue_index",
            self._table,
            ["scheduled_at", "id"],
            where="state = 'queued'",
        )
        return res

    @api.depends("reason_code", "reason_params")
    @api.depends_context("lang")
    def _compute_reason(self):
        labels = dict(self._fields["reason_code"]._description_selection(self.env))
        for message in self:
            message.reason = (
                reason_text(labels, message.reason_code, message.reason_params) or False
            )

    @api.depends("res_model", "res_id")
    def _compute_document_name(self):
        for res_model, messages in self.grouped("res_model").items():
            if res_model not in self.env:
                messages.document_name = False
                continue
            documents = self.env[res_model].sudo().browse(messages.mapped("res_id")).exists()
            names = dict(zip(documents.ids, documents.mapped("display_name"), strict=True))
            for message in messages:
                message.document_name = names.get(message.res_id, False)

    @api.depends("document_name", "sender_ref", "channel")
    def _compute_display_name(self):
        for message in self:
            sender = message.sender_ref.sudo().exists()
            parts = [message.document_name or message.partner_id.display_name or ""]
            if sender:
                parts.append(sender.display_name)
            message.display_name = " — ".join(part for part in parts if part)

    # ------------------------------------------------------------------
    # The sender: one reference, whatever the kind
    # ------------------------------------------------------------------

    @api.model
    def _selection_sender_ref(self):
        """Every model inheriting the sender: a new kind of sender extends this
        selection by inheriting ``insurance.notify.sender``, nothing more."""
        return [
            (name, self.env[name]._description)
            for name in sorted(
                self.env.registry.descendants(["insurance.notify.sender"], "_inherit")
            )
            if name != "insurance.notify.sender" and not self.env[name]._abstract
        ]

    @api.model
    def _sender_links(self):
        """Message fields naming a sender of their comodel (for One2manys and reports)."""
        senders = {name for name, _label in self._selection_sender_ref()}
        return {
            name: field.comodel_name
            for name, field in self._fields.items()
            if field.type == "many2one" and field.comodel_name in senders
        }

    @api.depends("sender_ref")
    def _compute_sender_links(self):
        links = self._sender_links()
        for message in self:
            sender = message.sender_ref
            for name, comodel in links.items():
                message[name] = sender.id if sender and sender._name == comodel else False

    @api.model_create_multi
    def create(self, vals_list):
        """The queue's rows come from ``_enqueue``, which names the sender; a
        message written by other code names it by a sender link (``rule_id``…)
        or, naming none, is a direct message of its company."""
        links = self._sender_links()
        for vals in vals_list:
            if vals.get("sender_ref"):
                continue
            named = [(links[name], vals[name]) for name in links if vals.get(name)]
            if named:
                comodel, sender_id = named[0]
                vals["sender_ref"] = f"{comodel},{sender_id}"
            else:
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                direct = self.env["insurance.notify.direct"]._for("test", company)
                vals["sender_ref"] = f"{direct._name},{direct.id}"
        return super().create(vals_list)

    def _set_state(self, state, reason=False, params=None, **values):
        """Move these messages to ``state`` with its reason (a code of
        notify_reasons and its parameters) and any other values: the one way
        a message changes state, whoever moves it."""
        self.write(
            {"state": state, "reason_code": reason, "reason_params": params or False, **values}
        )

    # ------------------------------------------------------------------
    # The clock and the commit: crons read the time here, so tests can freeze it.
    # ------------------------------------------------------------------

    @api.model
    def _now(self):
        return fields.Datetime.now()

    @api.model
    def _today(self, company=None, now=None):
        """The company's local date: the one "today" of planning, dry runs,
        Send now and overdue installments."""
        company = company or self.env.company
        zone = schedule.resolve_timezone(company.partner_id.tz)
        return pytz.utc.localize(now or self._now()).astimezone(pytz.timezone(zone)).date()

    @api.model
    def _local_day_start(self, day, timezone):
        """Midnight of ``day`` in ``timezone``, as naive UTC."""
        local = pytz.timezone(timezone).localize(datetime.combine(day, time.min))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

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

    @api.model
    def _trigger_dispatch(self):
        self.env.ref("insurance_notify.ir_cron_dispatch_notifications").sudo()._trigger()

    # ------------------------------------------------------------------
    # The one way into the queue
    # ------------------------------------------------------------------

    @api.model
    def _enqueue(self, sender, items, replan=False):
        """Put ``items`` (QueueItem) of ``sender`` in the queue; return their messages.

        Keys them, decides the recipient's channel, address and consent,
        records skips with their reason, schedules each in the sender's window
        in the recipient's timezone and inserts them in one statement. A key
        already in the queue is not created again; with ``replan``, its
        message is re-planned if it has not left (a moved deadline, a
        reminder turned back on). Returns new and existing messages alike.
        """
        vals_by_key = self._prepare_queue(sender, items)
        if not vals_by_key:
            return self.browse()
        existing = self.sudo().search([("key", "in", list(vals_by_key))])
        if replan:
            for message in existing.filtered(lambda m: m.state in REPLANNABLE):
                vals = vals_by_key[message.key]
                if (message.state, vals["state"]) == ("skipped", "skipped") or (
                    message.state == "cancelled" and vals["state"] != "queued"
                ):
                    continue
                # A re-plan keeps the outcome already reached.
                message.write({name: value for name, value in vals.items() if name != "outcome"})
        else:
            for message in existing:
                vals = vals_by_key[message.key]
                if message._revives(vals):
                    # Left out, it had no outcome to keep: it starts as queued does.
                    message.write(vals)
        taken = set(existing.mapped("key"))
        new = [vals for key, vals in vals_by_key.items() if key not in taken]
        return existing | self._insert(new)

    def _revives(self, vals):
        """Whether this message, left out for a reason that no longer holds,
        is planned again with ``vals`` (what planning it now prepares): it was
        skipped or cancelled for a changeable state (REVIVABLE_REASONS) and
        now it leaves, or falls in the rule's control group (then it is
        measured like the others, invariant 11). It never left, so queuing it
        cannot send anything twice."""
        self.ensure_one()
        return (
            (vals["state"] == "queued" or vals.get("reason_code") == "control_group")
            and self.state in ("skipped", "cancelled")
            and self.reason_code in REVIVABLE_REASONS
        )

    @api.model
    def _prepare_queue(self, sender, items, now=None):
        """key -> the values of the message each item becomes, as at ``now``
        (nothing is written: the dry run shows exactly these)."""
        items = list(items)
        if not items:
            return {}
        now = now or self._now()
        company = sender._notify_company()
        keyed = {sender._notify_key(item): item for item in items}
        today = self._today(company, now)
        # Consents are each agency's own: read the sending company's.
        partners = (
            self.env["res.partner"]
            .with_company(company)
            .browse({item.partner_id for item in items if item.partner_id})
        )
        recipients = sender._recipients(partners, today)
        window = sender._notify_window()
        gateway = sender._notify_gateway()
        whatsapp_gateway = (
            sender._notify_whatsapp_gateway()
            if "whatsapp" in sender._notify_channels()
            else self.env["insurance.notify.gateway"]
        )
        listed = sender._blacklisted(
            [item.number for item in items if item.number],
            [item.email for item in items if item.email],
        )
        sender_values = {
            "sender_ref": f"{sender._name},{sender.id}",
            "is_reminder": sender._notify_is_reminder(),
            **{
                name: sender.id if comodel == sender._name else False
                for name, comodel in self._sender_links().items()
            },
        }
        # Measured from the start, or known to ask for nothing measurable.
        outcome = "pending" if sender._notify_measures_outcome() else "not_applicable"
        slots = {}
        prepared = {}
        for key, item in keyed.items():
            recipient = recipients.get(item.partner_id)
            channel = recipient.channel if recipient else sender._notify_own_channel(item)
            own = item.number if channel in ("sms", "whatsapp") else item.email
            if own is not None or not recipient:
                recipient = sender._own_address(
                    partners.browse(item.partner_id or []), channel, own, listed, today
                )._replace(timezone=recipient.timezone if recipient else sender.timezone)
            sms = recipient.channel == "sms"
            vals = {
                "key": key,
                **sender_values,
                "company_id": company.id,
                "res_model": item.res_model,
                "res_id": item.res_id,
                "policy_id": item.policy_id or False,
                "partner_id": item.partner_id or False,
                "channel": recipient.channel,
                "offset": item.offset or 0,
                "event_date": item.event_date or False,
                "number": recipient.number,
                "email": recipient.email,
                "timezone": recipient.timezone,
                "gateway_id": (item.gateway_id or gateway.id)
                if sms
                else (
                    (item.gateway_id or whatsapp_gateway.id)
                    if recipient.channel == "whatsapp"
                    else False
                ),
                "body": item.body or False,
                "state": "queued",
                "reason_code": False,
                "reason_params": False,
                "outcome": outcome,
                "variant": item.variant or False,
            }
            # The control group is drawn among the messages that would leave,
            # so that it compares with the ones sent.
            skip = item.skip or recipient.reason or (item.control and "control_group")
            if skip:
                vals.update(state="skipped", reason_code=skip, scheduled_at=now, due_at=now)
            else:
                earliest = max(now, item.not_before or now)
                slot_key = (recipient.timezone, earliest)
                if slot_key not in slots:
                    slots[slot_key] = schedule.next_window_start(
                        earliest, recipient.timezone, *window
                    )
                vals.update(scheduled_at=slots[slot_key], due_at=slots[slot_key])
            prepared[key] = vals
        return prepared

    # Columns a queued message is created with (and the sender links); the others start empty.
    QUEUE_COLUMNS = (
        "key", "sender_ref", "is_reminder", "company_id", "res_model", "res_id",
        "policy_id", "partner_id", "channel", "offset", "event_date", "number", "email",
        "timezone", "gateway_id", "body", "state", "reason_code", "reason_params",
        "scheduled_at", "due_at", "outcome", "variant",
    )  # fmt: skip

    @api.model
    def _insert(self, vals_list):
        """Insert messages in one statement per 5,000.

        A day's planning creates thousands of rows whose values are all known;
        the ORM's create spends most of the planner's time on defaults and
        caches these rows do not need. The model has no computed stored field
        nor default beyond ``state`` and ``outcome``, which every row sets.
        """
        if not vals_list:
            return self.browse()
        self.env.flush_all()
        uid, now = self.env.uid, self.env.cr.now()
        queue_columns = (*self.QUEUE_COLUMNS, *self._sender_links())
        columns = SQL(", ").join(
            SQL.identifier(column)
            for column in (
                *queue_columns,
                "create_uid",
                "create_date",
                "write_uid",
                "write_date",
            )
        )
        ids = []
        for chunk in split_every(5000, vals_list):
            # One array a column, cast to the column's type: a handful of
            # parameters however many rows, so the statement is cheap to build.
            arrays = SQL(", ").join(
                SQL(
                    "%s::%s[]",
                    [self._column_value(column, vals.get(column)) for vals in chunk],
                    SQL(self._fields[column].column_type[1]),
                )
                for column in queue_columns
            )
            query = SQL(
                "INSERT INTO insurance_notify_message (%s) "
                "SELECT *, %s, %s, %s, %s FROM unnest(%s) RETURNING id",
                columns, uid, now, uid, now, arrays,
            )  # fmt: skip
            ids += [row[0] for row in self.env.execute_query(query)]
        # One2many fields (a policy's reminders, a rule's messages) must see them.
        self.env.invalidate_all()
        return self.browse(ids)

    def _column_value(self, column, value):
        # False is Odoo's "empty"; 0 is a value (an offset of 0 days).
        if value is False or value is None:
            return None
        if column == "reason_params":
            return self._fields[column].convert_to_column(value, self)
        return value

    # ------------------------------------------------------------------
    # Send now, cancel, retry: what people do with messages
    # ------------------------------------------------------------------

    @api.model
    def _send_now(self, records, event_type):
        """Queue the reminders of ``event_type`` about ``records`` to leave now.

        They take the keys the automatic run would use, so it will not send them
        again; one already sent is not sent twice. The dispatcher sends them
        right after this transaction commits (inside the sending window;
        outside it they wait for it like any other). The caller checked that
        the user may write ``records``.
        """
        company_ids = records.mapped("company_id").ids or self.env.company.ids
        rules = (
            self.env["insurance.notify.rule"]
            .sudo()
            .search([("event_type", "=", event_type), ("company_id", "in", company_ids)])
        )
        if not rules:
            raise UserError(
                self.env._("No active automatic notification sends this kind of reminder.")
            )
        concerned = self.browse()
        for rule in rules:
            concerned |= rule._plan_records(records, self._today(rule.company_id))
        if not concerned:
            raise UserError(
                self.env._("No reminder applies: the event is past or outside the rules' filters.")
            )
        if concerned.filtered(lambda message: message.state == "queued"):
            self._trigger_dispatch()
        return concerned

    @api.model
    def _action_send_now(self, records, event_type):
        """The "Send now" buttons: queue for now, then tell the user what happens."""
        records.check_access("write")
        already_sent = self.sudo().search(
            [
                ("res_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("state", "in", SENT_STATES),
            ]
        )
        messages = self.sudo()._send_now(records, event_type)
        now = self._now()
        lines = []
        for message in messages:
            to = message.number or message.email or message.partner_id.display_name
            if message in already_sent:
                lines.append(
                    self.env._(
                        "Already sent to %(to)s on %(date)s.",
                        to=to,
                        date=format_datetime(self.env, message.sent_at),
                    )
                )
            elif message.state in SENT_STATES:
                lines.append(self.env._("Sent to %(to)s.", to=to))
            elif message.state in ("queued", "sending") and message.scheduled_at <= now:
                lines.append(self.env._("Leaving now for %(to)s.", to=to))
            elif message.state in ("queued", "sending"):
                lines.append(
                    self.env._(
                        "Queued for %(to)s: leaves at %(date)s, inside the sending hours.",
                        to=to,
                        date=format_datetime(self.env, message.scheduled_at),
                    )
                )
            else:
                lines.append(
                    self.env._("Not sent to %(to)s: %(reason)s.", to=to, reason=message.reason)
                )
        new = messages - already_sent
        waiting = new.filtered(lambda message: message.state in ("queued", "sending"))
        if waiting.filtered(lambda message: message.scheduled_at <= now):
            kind = "success"
        elif any(message.state in ("failed", "skipped", "cancelled") for message in new):
            kind = "danger"
        else:
            kind = "warning" if waiting else "info"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Reminder"),
                "message": "\n".join(lines),
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _waiting_notification(self):
        """A notification of the messages still waiting for their time (their
        sending hours, a provider, the client's daily limit), or None."""
        now = self._now()
        waiting = self.sudo()._read_group(
            [("state", "=", "queued"), ("scheduled_at", ">", now)],
            aggregates=["__count", "scheduled_at:min"],
        )
        count, first = waiting[0]
        if not count:
            return None
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Messages waiting"),
                "message": self.env._(
                    "%(count)s messages wait for their time (sending hours, the provider or "
                    "the client's daily limit); the next leaves at %(date)s.",
                    count=count,
                    date=format_datetime(self.env, first),
                ),
                "type": "info",
            },
        }

    @api.model
    def _last_sent(self, records, event_types, reached_only=False):
        """record id -> when its last reminder of ``event_types`` was sent
        (with ``reached_only``, leaving the ones the sandbox kept out)."""
        return dict(
            self.sudo()._read_group(
                [
                    ("res_model", "=", records._name),
                    ("res_id", "in", records.ids),
                    ("state", "in", SENT_STATES),
                    ("rule_id.event_type", "in", event_types),
                    *([("is_sandbox", "=", False)] if reached_only else []),
                ],
                ["res_id"],
                ["sent_at:max"],
            )
        )

    @api.model
    def _cancel_queued_for(self, records, reason_code, **params):
        """Cancel the queued messages about ``records`` (a policy cancelled, an
        installment paid). The caller has changed ``records``: its rights are checked."""
        queued = self.sudo().search(
            [
                ("res_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("state", "=", "queued"),
            ]
        )
        queued.write(
            {"state": "cancelled", "reason_code": reason_code, "reason_params": params or False}
        )
        return queued

    def _check_manager(self):
        if not self.env.user.has_group("insurance_notify.group_insurance_manager"):
            raise AccessError(self.env._("Only insurance managers can retry or cancel messages."))
        self.check_access("read")

    def action_retry(self):
        """Send failed messages again (a fixed number, a gateway set up)."""
        self._check_manager()
        failed = self.filtered(lambda message: message.state == "failed")
        if not failed:
            raise UserError(self.env._("Only failed messages can be sent again."))
        now = self._now()
        failed.sudo().write(
            {
                "state": "queued",
                "attempts": 0,
                "scheduled_at": now,
                "due_at": now,
                "reason_code": "retry",
                "reason_params": {"user": self.env.user.name},
            }
        )
        self._trigger_dispatch()
        return True

    def action_cancel(self):
        """Cancel messages that have not left yet."""
        self._check_manager()
        queued = self.filtered(lambda message: message.state == "queued")
        queued.sudo().write(
            {
                "state": "cancelled",
                "reason_code": "cancelled_by",
                "reason_params": {"user": self.env.user.name},
            }
        )
        return True

    # ------------------------------------------------------------------
    # Delivery reports
    # ------------------------------------------------------------------

    @api.model
    def _apply_delivery_reports(self, gateway, reports):
        """Move sent messages to delivered or failed; return the reports naming none.

        One query for all reports. Idempotent: a message already delivered or
        failed keeps its state, and a report saying "still on its way"
        changes nothing. Reminders sent together share the report.
        """
        refs = [report.provider_ref for report in reports if report.provider_ref]
        keys = [report.key for report in reports if report.key]
        found = self.sudo().search(
            [
                ("gateway_id", "=", gateway.id),
                ("channel", "in", ("sms", "whatsapp")),
                "|",
                "|",
                ("provider_ref", "in", refs),
                ("key", "in", keys),
                ("group_key", "in", keys),
            ]
        )
        by_ref, by_key = {}, {}
        for message in found:
            if message.provider_ref:
                by_ref.setdefault(message.provider_ref, self.browse())
                by_ref[message.provider_ref] |= message
            by_key.setdefault(message.group_key or message.key, self.browse())
            by_key[message.group_key or message.key] |= message
        unmatched = []
        for report in reports:
            messages = by_ref.get(report.provider_ref) or by_key.get(report.key)
            if not messages:
                unmatched.append(report)
                continue
            # A WhatsApp message left 'sending' (its answer lost, a crash) is
            # confirmed by any status naming its key: it went, once.
            confirmed = report.state != "failed"
            for message in messages.filtered(
                lambda m, ok=confirmed: ok and m.channel == "whatsapp" and m.state == "sending"
            ):
                message.write(
                    {
                        "state": "sent",
                        "sent_at": self._now(),
                        "attempts": 1,
                        "lookup_needed": False,
                        "error_class": False,
                        # Billed as if the answer had come (_write_result).
                        "currency_id": gateway.currency_id.id,
                        "cost": gateway._message_cost(
                            "whatsapp", 1, message._templates_for_channel()
                        ),
                        **({"provider_ref": report.provider_ref} if report.provider_ref else {}),
                    }
                )
            if report.state == "sent":
                continue
            if report.state == "read":
                # Read implies delivered; a read receipt may come before the delivery one.
                messages.filtered(lambda m: not m.read_at).write({"read_at": self._now()})
                messages.filtered(lambda m: m.state in ("sent", "sending")).write(
                    {"state": "delivered"}
                )
                continue
            vals = {"state": report.state}
            if report.provider_ref:
                vals["provider_ref"] = report.provider_ref
            if report.state == "failed":
                vals.update(
                    reason_code="not_delivered",
                    reason_params={"detail": (report.reason or "").lower()},
                )
            messages.filtered(lambda m: m.state in ("sent", "sending")).write(vals)
        return unmatched
