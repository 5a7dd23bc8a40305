from odoo.tests import tagged

from .common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestClientCardTour(NotifyHttpCase):
    def test_a_broker_adds_a_lithuanian_client_with_a_policy_in_two_installments(self):
        self.start_tour("/odoo", "insurance_notify_client_card", login="admin")

        client = self.env["res.partner"].search([("name", "=", "Tour Lietuvis")])
        self.assertEqual(client.mobile, "+37069911223")
        self.assertTrue(client.consent_sms)
        self.assertEqual(
            client.consent_log_ids.filtered(lambda log: log.consent == "consent_sms").source, "form"
        )
        policy = client.insurance_policy_ids
        self.assertEqual(policy.name, "TOUR/LT/0001")
        self.assertEqual(policy.installment_ids.mapped("amount"), [300, 300])
