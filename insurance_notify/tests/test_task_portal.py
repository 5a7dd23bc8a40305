from odoo.fields import Command
from odoo.tests.common import new_test_user

from .common import warsaw
from .test_task_reminders import TaskCase


class TestProjectSharingWithReminders(TaskCase):
    """A portal collaborator of a shared project works on tasks that have
    reminders: project's flow is unchanged, the reminders follow."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(cls.env, login="portal_collaborator", groups="base.group_portal")
        cls.project.write(
            {
                "privacy_visibility": "portal",
                "collaborator_ids": [Command.create({"partner_id": cls.portal.partner_id.id})],
            }
        )
        # As the sharing wizard does: a collaborator follows the shared project.
        cls.project.message_subscribe(partner_ids=cls.portal.partner_id.ids)
        cls.env["project.task.type"].create(
            {"name": "To do", "sequence": 1, "project_ids": [Command.link(cls.project.id)]}
        )
        cls.done = cls.env["project.task.type"].create(
            {
                "name": "Done",
                "sequence": 9,
                "fold": True,
                "project_ids": [Command.link(cls.project.id)],
            }
        )

    def test_a_portal_user_closes_a_task_and_its_reminders_are_cancelled(self):
        self.both_defaults()
        task = self.make_task()
        self.assertEqual(len(self.task_messages(task, "queued")), 2)

        # As in a request: nothing in the cache, every field read is checked.
        self.env.invalidate_all()
        portal_task = task.with_user(self.portal)
        portal_task.read(["name", "stage_id"])
        portal_task.write({"stage_id": self.done.id})

        self.assertEqual(task.stage_id, self.done)
        self.assertFalse(self.task_messages(task, "queued"))
        self.assertEqual(len(self.task_messages(task, "cancelled")), 2)

    def test_a_portal_user_moves_a_deadline_and_creates_a_task(self):
        self.both_defaults()
        task = self.make_task()
        # A reminder that cannot reach anyone is the internal users' to fix.
        self.contact.mobile = False
        self.env.invalidate_all()
        task.with_user(self.portal).write({"date_deadline": warsaw(self.tomorrow, 15)})
        self.assertEqual(task.date_deadline, warsaw(self.tomorrow, 15))
        new = (
            self.env["project.task"]
            .with_user(self.portal)
            .with_context(default_project_id=self.project.id)
            .create({"name": "Photos of the damage"})
        )
        self.assertTrue(new.exists())
