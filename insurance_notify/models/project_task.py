import pytz

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.fields import Command

from odoo.addons.project.models.project_task import CLOSED_STATES

from ..lib.notify_engine import schedule

# Saving a task touching these re-plans its reminders.
SYNC_FIELDS = frozenset(
    {
        "date_deadline",
        "user_ids",
        "partner_id",
        "stage_id",
        "state",
        "active",
        "company_id",
        "project_id",
        "insurance_reminder_ids",
        "insurance_customer_reminder_ids",
        "insurance_operator_reminder_ids",
    }
)
REMINDER_FIELDS = {
    "customer": "insurance_customer_reminder_ids",
    "operator": "insurance_operator_reminder_ids",
}


class ProjectTask(models.Model):
    _inherit = "project.task"

    insurance_date_start = fields.Datetime(
        string="Start", help="When the task (a meeting, a visit) starts; templates can show it."
    )
    # The task's name is the office's own ("Kowalski – claim 17, call back
    # angry"): what the client reads is typed apart, and the shipped customer
    # templates say only this or a neutral phrase, never the name.
    insurance_client_subject = fields.Char(
        string="Text for the Client",
        help="What the customer's reminders call this task, in the customer's language "
        "(for example “vehicle inspection at our office”). The task's name is internal "
        "and never sent to the customer; left empty, the reminder says “your appointment”.",
    )
    insurance_client_label = fields.Char(
        string="Client's Text (or a neutral phrase)",
        compute="_compute_insurance_client_label",
        help="For templates: the text for the client, else “your appointment” in the "
        "recipient's language.",
    )
    insurance_reminder_ids = fields.One2many(
        "insurance.task.reminder", "task_id", string="Reminders"
    )
    insurance_customer_reminder_ids = fields.One2many(
        "insurance.task.reminder",
        "task_id",
        string="Customer Reminders",
        domain=[("audience", "=", "customer")],
    )
    insurance_operator_reminder_ids = fields.One2many(
        "insurance.task.reminder",
        "task_id",
        string="Operator Reminders",
        domain=[("audience", "=", "operator")],
    )
    insurance_notify_message_ids = fields.One2many(
        "insurance.notify.message",
        compute="_compute_insurance_notify_message_ids",
        string="Reminder Messages",
    )
    # Placeholders for templates: dates and times in the recipient's timezone
    # (the dispatcher renders each message with its recipient's tz in context).
    insurance_start_date = fields.Char(
        string="Start Date (recipient's time)", compute="_compute_insurance_placeholders"
    )
    insurance_start_time = fields.Char(
        string="Start Time (recipient's time)", compute="_compute_insurance_placeholders"
    )
    insurance_deadline_date = fields.Char(
        string="Deadline Date (recipient's time)", compute="_compute_insurance_placeholders"
    )
    insurance_deadline_time = fields.Char(
        string="Deadline Time (recipient's time)", compute="_compute_insurance_placeholders"
    )

    insurance_reminder_notice = fields.Char(
        string="Reminders Notice", compute="_compute_insurance_reminder_notice"
    )

    @api.depends(
        "date_deadline",
        "insurance_date_start",
        "insurance_reminder_ids.enabled",
        "insurance_customer_reminder_ids.enabled",
        "insurance_operator_reminder_ids.enabled",
    )
    @api.depends_context("lang")
    def _compute_insurance_reminder_notice(self):
        """Reminders count back from the deadline: a task with reminders
        switched on but no deadline (often only a start) plans nothing, and
        the Reminders tab says so rather than staying silent."""
        for task in self:
            enabled = (
                task.insurance_reminder_ids
                | task.insurance_customer_reminder_ids
                | task.insurance_operator_reminder_ids
            ).filtered("enabled")
            if task.date_deadline or not enabled:
                task.insurance_reminder_notice = False
            elif task.insurance_date_start:
                task.insurance_reminder_notice = self.env._(
                    "Reminders count back from the deadline, not from the start: "
                    "set the deadline, or nothing is sent."
                )
            else:
                task.insurance_reminder_notice = self.env._(
                    "Reminders count back from the deadline: set one, or nothing is sent."
                )

    @api.depends("insurance_client_subject")
    @api.depends_context("lang")
    def _compute_insurance_client_label(self):
        # Templates render with the recipient's language in the context, so
        # the fallback reads in the client's language.
        for task in self:
            task.insurance_client_label = (
                task.insurance_client_subject or ""
            ).strip() or self.env._("your appointment")

    def _compute_insurance_notify_message_ids(self):
        messages = (
            self.env["insurance.notify.message"]
            .sudo()
            .search([("res_model", "=", "project.task"), ("res_id", "in", self.ids)])
        )
        for task in self:
            task.insurance_notify_message_ids = messages.filtered(
                lambda message, task=task: message.res_id == task.id
            )

    @api.depends("insurance_date_start", "date_deadline")
    @api.depends_context("tz", "lang")
    def _compute_insurance_placeholders(self):
        zone = pytz.timezone(
            schedule.resolve_timezone(self.env.context.get("tz"), self.env.user.tz, default="UTC")
        )
        for task in self:
            for moment, date_field, time_field in (
                (task.insurance_date_start, "insurance_start_date", "insurance_start_time"),
                (task.date_deadline, "insurance_deadline_date", "insurance_deadline_time"),
            ):
                if not moment:
                    task[date_field] = task[time_field] = ""
                    continue
                local = pytz.utc.localize(moment).astimezone(zone)
                task[date_field] = tools.format_date(self.env, local.date())
                task[time_field] = local.strftime("%H:%M")

    @api.onchange("partner_id")
    def _onchange_partner_id_insurance_reminders(self):
        # The form does not recompute lines from their parent's fields by itself.
        for line in self.insurance_customer_reminder_ids:
            line.partner_id = self.partner_id

    # ------------------------------------------------------------------
    # Defaults, create, write
    # ------------------------------------------------------------------

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        Reminder = self.env["insurance.task.reminder"]
        if not Reminder.has_access("create"):
            # Reminders send SMS and e-mails at the agency's cost: a task of a
            # user without insurance rights (a project employee, a portal
            # collaborator) starts without any.
            return values
        for audience, field_name in REMINDER_FIELDS.items():
            if field_name in fields_list and field_name not in values:
                default = Reminder._default_values(audience)
                if default:
                    values[field_name] = [Command.create(default)]
        return values

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "insurance_reminder_ids" in vals:
                # Reminders given explicitly: no defaults on top of them.
                for field_name in REMINDER_FIELDS.values():
                    vals.setdefault(field_name, [])
        tasks = super(ProjectTask, self.with_context(insurance_reminder_sync_later=True)).create(
            vals_list
        )
        tasks = tasks.with_env(self.env)
        tasks._check_insurance_reminder_contacts()
        tasks._sync_insurance_reminders()
        return tasks

    def write(self, vals):
        if not SYNC_FIELDS & set(vals):
            return super().write(vals)
        result = super(ProjectTask, self.with_context(insurance_reminder_sync_later=True)).write(
            vals
        )
        self._check_insurance_reminder_contacts()
        self._sync_insurance_reminders()
        return result

    def _insurance_is_closed(self):
        self.ensure_one()
        return self.state in CLOSED_STATES or self.stage_id.fold or not self.active

    def _check_insurance_reminder_contacts(self):
        """Refuse to save an open task whose reminder cannot reach someone.

        Never for a portal user of a shared project: their change was checked
        by project, and a reminder that cannot reach someone is the internal
        users' to fix, never a reason to refuse it (other apps' flows keep
        working)."""
        if self.env.context.get("insurance_reminder_sync_later") or self.env.user.share:
            return
        for task in self:
            if task._insurance_is_closed():
                continue
            problems = task.insurance_reminder_ids._missing_contacts()
            if problems:
                raise ValidationError(
                    self.env._(
                        "The reminders of task “%(task)s” cannot be sent:\n%(problems)s",
                        task=task.display_name,
                        problems="\n".join(problems),
                    )
                )

    # ------------------------------------------------------------------
    # The queue: one message per reminder, recipient and deadline
    # ------------------------------------------------------------------

    def _sync_insurance_reminders(self):
        """Queue, re-plan or cancel the messages of these tasks' reminders.

        A key names the reminder, recipient, channel and deadline: a moved
        deadline gives new keys and cancels the old queued ones; a message
        already sent keeps its key, so it is never sent twice.
        """
        if self.env.context.get("insurance_reminder_sync_later"):
            return
        if self.env.user.share and not self.env.su:
            # A portal collaborator neither sees nor manages reminders: they
            # follow the change as the system would (the user stays, for the
            # timezone and language).
            self.sudo()._sync_insurance_reminders()
            return
        Message = self.env["insurance.notify.message"].sudo()
        now = Message._now()
        for task in self:
            messages = Message.search(
                [
                    ("res_model", "=", "project.task"),
                    ("res_id", "=", task.id),
                    ("task_reminder_id", "!=", False),
                ]
            )
            queued = messages.filtered(lambda message: message.state == "queued")
            if task._insurance_is_closed() or not task.date_deadline:
                code = "task_closed" if task._insurance_is_closed() else "task_no_deadline"
                queued.write({"state": "cancelled", "reason_code": code, "reason_params": False})
                continue
            wanted = set()
            for line in task.insurance_reminder_ids.filtered("enabled").sudo():
                items = line._queue_items()
                wanted |= {line._notify_key(item) for item in items}
                if task.date_deadline > now:
                    Message._enqueue(line, items, replan=True)
            deadline_tag = "-" + task.date_deadline.isoformat()
            for message in queued.filtered(lambda m, wanted=wanted: m.key not in wanted):
                moved = not message.key.endswith(deadline_tag)
                message.write(
                    {
                        "state": "cancelled",
                        "reason_code": "deadline_moved" if moved else "reminder_changed",
                        "reason_params": False,
                    }
                )
        self.invalidate_recordset(["insurance_notify_message_ids"])
