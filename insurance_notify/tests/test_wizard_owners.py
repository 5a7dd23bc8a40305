"""A wizard is its user's: another user of the same company and group can
neither read nor re-run someone else's dry run, test SMS or bulk-send review
(record rules on ``create_uid``), as they would try over RPC."""

from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests.common import new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase

BROKER = "base.group_user,insurance_notify.group_insurance_user"
MANAGER = "base.group_user,insurance_notify.group_insurance_manager"


class TestWizardOwners(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = new_test_user(cls.env, login="wizard_broker", groups=BROKER)
        cls.other_broker = new_test_user(cls.env, login="wizard_broker_2", groups=BROKER)
        cls.manager = new_test_user(cls.env, login="wizard_manager", groups=MANAGER)
        cls.other_manager = new_test_user(cls.env, login="wizard_manager_2", groups=MANAGER)
        cls.policy = cls.env["insurance.policy"].create(
            {
                "name": "POL/WIZ/1",
                "partner_id": cls.client.id,
                "insurer_id": cls.insurer.id,
                "product_id": cls.product.id,
                "date_start": cls.TODAY - timedelta(days=358),
                "date_end": cls.TODAY + timedelta(days=7),
                "state": "valid",
            }
        )

    def as_request(self, records, user):
        """As the next request of ``user`` would see them: nothing cached."""
        self.env.invalidate_all()
        return records.with_user(user)

    def assert_not_theirs(self, records, user, *actions):
        Model = records.env[records._name].with_user(user)
        self.assertFalse(Model.search([("id", "in", records.ids)]))
        with self.assertRaises(AccessError):
            self.as_request(records, user).read(["create_uid"])
        for action in actions:
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(self.as_request(records, user), action)()

    def test_a_dry_run_is_its_brokers(self):
        self.make_rule("7")
        self.make_policy(8)  # reminded tomorrow, the day the dry run shows
        wizard = self.env["insurance.notify.dry.run"].with_user(self.broker).create({})
        wizard.action_run()
        lines = wizard.line_ids | wizard.left_out_ids
        self.assertTrue(lines)
        self.assert_not_theirs(wizard, self.other_broker, "action_run")
        self.assert_not_theirs(lines, self.other_broker)
        # Not even a manager's, nor through the lines.
        self.assert_not_theirs(wizard, self.manager, "action_run")
        Line = self.env["insurance.notify.dry.run.line"].with_user(self.manager)
        self.assertFalse(Line.search([("wizard_id", "=", wizard.id)]))
        # Its owner still sees and re-runs it.
        mine = self.as_request(wizard, self.broker)
        mine.action_run()
        self.assertEqual(len(mine.line_ids | mine.left_out_ids), len(lines))

    def test_a_test_sms_is_its_managers(self):
        wizard = (
            self.env["insurance.sms.test"]
            .with_user(self.manager)
            .create(
                {
                    "policy_id": self.policy.id,
                    "sms_template_id": self.template.id,
                    "number": "+48 601 234 567",
                }
            )
        )
        self.assert_not_theirs(wizard, self.other_manager, "action_send", "action_refresh")
        self.assertFalse(self.Message.search([("number", "=", "+48601234567")]))
        self.as_request(wizard, self.manager).action_send()
        self.Message._cron_dispatch()
        self.assertEqual([sms.number for sms in SandboxGateway.outbox], ["+48601234567"])

    def test_a_bulk_send_review_is_its_managers(self):
        batch = (
            self.env["insurance.notify.batch"]
            .with_user(self.manager)
            .create(
                {
                    "name": "Ending soon",
                    "kind": "bulk",
                    "target": "policy_expiry",
                    "channel": "sms",
                    "sms_template_id": self.template.id,
                    "date_from": self.TODAY,
                    "date_to": self.TODAY + timedelta(days=30),
                }
            )
        )
        action = batch.action_review()
        review = self.env["insurance.notify.batch.start"].browse(action["res_id"])
        self.assertTrue(review.line_ids)
        self.assert_not_theirs(review, self.other_manager, "action_send", "action_save")
        self.assert_not_theirs(review.line_ids, self.other_manager)
        self.assertEqual(batch.state, "draft")
        self.as_request(review, self.manager).action_send()
        self.assertEqual(batch.state, "running")
