"""What WhatsApp costs: Meta bills a template message once, at its category's
price, an SMS per part. The message's cost (and so the effectiveness
figures), and the dry run's estimate of a rule "WhatsApp, else SMS" follow
the channel of each message. Tried as a Polish insurance manager."""

import contextlib

from ..lib.notify_engine import sms
from ..lib.notify_engine.gateways.whatsapp import WhatsAppGateway
from .test_whatsapp_channel import WhatsappCase, WorkerDied

UTILITY = 0.21
MARKETING = 0.55
PER_PART = 0.16


class TestWhatsappCosts(WhatsappCase):
    def setUp(self):
        super().setUp()
        self.gateway.write(
            {"whatsapp_price_utility": UTILITY, "whatsapp_price_marketing": MARKETING}
        )
        self.sms_gateway = (
            self.env["insurance.notify.gateway"].sudo()._default_for_company(self.env.company)
        )
        self.assertNotEqual(self.sms_gateway, self.gateway)
        self.sms_gateway.cost_per_part = PER_PART
        # A text two SMS parts long: the SMS costs per part, WhatsApp does not.
        self.template.body = "Polisa {{ object.name }} kończy się. " + "Zadzwoń do nas. " * 6
        self.rule = self.whatsapp_rule()

    def sms_cost(self, policy):
        body = self.template._render_field("body", policy.ids)[policy.id]
        return sms.analyze(body, transliterate=False).parts * PER_PART

    def test_a_whatsapp_reminder_costs_its_category_price_and_the_sms_its_parts(self):
        policy_anna = self.make_policy(7, partner_id=self.anna.id)
        policy_jan = self.make_policy(7, partner_id=self.jan.id)
        self.run_crons()
        whatsapp = self.messages_of(policy_anna)
        text = self.messages_of(policy_jan)
        self.assertEqual((whatsapp.channel, whatsapp.state), ("whatsapp", "sent"))
        self.assertEqual((text.channel, text.state), ("sms", "sent"))
        self.assertGreater(text.sms_parts, 1)
        self.assertAlmostEqual(whatsapp.cost, UTILITY)
        self.assertAlmostEqual(text.cost, text.sms_parts * PER_PART)
        # The rule's effectiveness figures add up the messages' own costs.
        rule = self.rule.with_user(self.manager)
        figures = self.env["insurance.notify.effectiveness"]._figures(rule)[rule.id]
        self.assertAlmostEqual(figures["cost"], UTILITY + text.sms_parts * PER_PART)
        # The report's pivot by channel names WhatsApp as a channel of its own.
        report = self.env["insurance.notify.effectiveness"].with_user(self.manager)
        by_channel = report.read_group([("rule_id", "=", rule.id)], ["cost:sum"], ["channel"])
        self.assertEqual(
            {group["channel"]: round(group["cost"], 2) for group in by_channel},
            {"whatsapp": UTILITY, "sms": round(text.sms_parts * PER_PART, 2)},
        )
        labels = dict(report.fields_get(["channel"])["channel"]["selection"])
        self.assertEqual(labels.get("whatsapp"), "WhatsApp")

    def test_a_marketing_template_costs_the_marketing_price(self):
        self.template_pl.sudo().category = "marketing"
        self.anna.consent_marketing = True
        policy = self.make_policy(7, partner_id=self.anna.id)
        self.run_crons()
        message = self.messages_of(policy)
        self.assertEqual((message.channel, message.state), ("whatsapp", "sent"))
        self.assertAlmostEqual(message.cost, MARKETING)

    def test_a_message_the_webhook_confirms_after_a_crash_is_billed_too(self):
        self.rule.channel = "whatsapp"
        policy = self.make_policy(7, partner_id=self.anna.id)
        self.Rule._cron_plan()
        original = WhatsAppGateway.send

        def send_then_die(adapter, messages):
            original(adapter, messages)
            raise WorkerDied

        self.patch(WhatsAppGateway, "send", send_then_die)
        with contextlib.suppress(WorkerDied):
            self.Message._cron_dispatch()
        [wamid] = self.meta.ids
        self.apply_status(wamid, "sent")
        message = self.messages_of(policy)
        message.invalidate_recordset()
        self.assertEqual(message.state, "sent")
        self.assertAlmostEqual(message.cost, UTILITY)

    def test_the_dry_run_estimates_whatsapp_and_sms_each_at_its_own_price(self):
        policy_anna = self.make_policy(7, partner_id=self.anna.id)
        policy_jan = self.make_policy(7, partner_id=self.jan.id)
        wizard = (
            self.env["insurance.notify.dry.run"]
            .with_user(self.manager)
            .create({"day": self.TODAY, "rule_ids": [(6, 0, self.rule.ids)]})
        )
        wizard.action_run()
        lines = {line.partner_id: line for line in wizard.line_ids}
        self.assertEqual(lines[self.anna].channel, "whatsapp")
        self.assertAlmostEqual(lines[self.anna].cost, UTILITY)
        self.assertEqual(lines[self.jan].channel, "sms")
        sms_cost = self.sms_cost(policy_jan)
        self.assertAlmostEqual(lines[self.jan].cost, sms_cost)
        self.assertEqual(
            (wizard.message_count, wizard.sms_count, wizard.whatsapp_count, wizard.email_count),
            (2, 1, 1, 0),
        )
        self.assertAlmostEqual(wizard.cost, UTILITY + sms_cost)
        # The planner then records the same figures.
        self.run_crons()
        self.assertAlmostEqual(self.messages_of(policy_anna).cost, lines[self.anna].cost)
        self.assertAlmostEqual(self.messages_of(policy_jan).cost, lines[self.jan].cost)
