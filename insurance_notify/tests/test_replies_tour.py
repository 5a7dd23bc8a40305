"""A broker answers a client's reply by SMS in the browser, in Polish (issue 18)."""

from odoo.tests import tagged

from ..lib.notify_engine.gateways import InboundSms, SandboxGateway
from .common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestRepliesTour(NotifyHttpCase):
    def test_a_polish_broker_answers_a_reply_and_the_sandbox_receives_it(self):
        SandboxGateway.reset()
        env = self.env
        anna = env.ref("insurance_notify.user_broker_pl")
        self.assertEqual(anna.lang, "pl_PL")
        gateway = env.ref("insurance_notify.gateway_sandbox")
        reply = (
            env["insurance.notify.reply"]
            .sudo()
            ._receive_sms(
                gateway,
                InboundSms(
                    number="+48600111999", text="Tak, proszę o ofertę", provider_ref="MO-T1"
                ),
            )
        )
        # Any hour the suite runs: the answer leaves at once.
        env["insurance.notify.answer"]._for(gateway.company_id).write(
            {"window_start": 0.0, "window_end": 24.0}
        )
        self.start_tour(
            f"/odoo/action-insurance_notify.action_insurance_notify_reply/{reply.id}",
            "insurance_notify_replies",
            login="anna",
        )
        env["insurance.notify.message"]._cron_dispatch()
        answers = [sms for sms in SandboxGateway.outbox if sms.key.startswith("answer-")]
        self.assertEqual(
            [(sms.number, sms.body) for sms in answers],
            [("+48600111999", "Dzień dobry, przygotujemy ofertę odnowienia.")],
        )
        reply.invalidate_recordset()
        self.assertTrue(reply.answered)
