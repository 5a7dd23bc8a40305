from datetime import timedelta

from odoo.tests import tagged

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestPolicyRemindersTour(NotifyHttpCase):
    def test_a_broker_sees_the_reminder_sent_for_a_policy(self):
        SandboxGateway.reset()
        env = self.env
        env["insurance.notify.rule"].search([]).action_archive()
        today = env["insurance.notify.message"]._today()
        client = env["res.partner"].create({"name": "Tour Client", "mobile": "+48 600 999 111"})
        policy = env["insurance.policy"].create(
            {
                "name": "TOUR/OC/0007",
                "partner_id": client.id,
                "insurer_id": env.ref("insurance_notify.insurer_pzu").id,
                "product_id": env.ref("insurance_notify.product_motor").id,
                "date_start": today - timedelta(days=358),
                "date_end": today + timedelta(days=7),
                "state": "valid",
            }
        )
        env["insurance.notify.rule"].create(
            {
                "name": "Tour rule",
                "offsets": "7",
                "sms_template_id": env.ref("insurance_notify.sms_template_policy_expiry").id,
                # Whatever the hour the suite runs at, the window is open.
                "window_start": 0,
                "window_end": 24,
            }
        )
        env["insurance.notify.rule"]._cron_plan()
        env["insurance.notify.message"]._cron_dispatch()
        self.assertEqual(policy.notify_message_ids.state, "sent")

        self.start_tour("/odoo", "insurance_notify_policy_reminders", login="admin")
