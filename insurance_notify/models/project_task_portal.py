from odoo import models


class ProjectTask(models.Model):
    """Project sharing: a portal user who moves, edits or creates a task of a
    shared project neither sees nor manages its reminders (they are not in
    project's portal-readable fields, and the reminder model is internal).

    The portal user's change was already checked by project; the reminders
    follow it as the system would, and a reminder that cannot reach someone
    is for the internal users to fix, never a reason to refuse the portal's
    change (invariant 7: other apps' flows keep working).
    """

    _inherit = "project.task"

    def _check_insurance_reminder_contacts(self):
        if self.env.user.share:
            return None
        return super()._check_insurance_reminder_contacts()

    def _sync_insurance_reminders(self):
        if self.env.user.share:
            # Keeps the portal user as env.user (timezone, language), reads as the system.
            return super(ProjectTask, self.sudo())._sync_insurance_reminders()
        return super()._sync_insurance_reminders()
