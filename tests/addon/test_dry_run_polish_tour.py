from datetime import datetime, time, timedelta

import pytz

from odoo import fields
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from notify_engine.gateways import SandboxGateway

from .common import NotifyHttpCase


@tagged("post_install", "-at_install")
class TestDryRunPolishTour(NotifyHttpCase):
    """A Polish broker's dry run shows the Polish client's SMS exactly as the
    gateway then receives it: Polish words, a Polish date, złoty."""

    def setUp(self):
        super().setUp()
        self.env["res.lang"]._activate_lang("pl_PL")
        self.env["ir.module.module"]._load_module_terms(
            ["insurance_notify", "web"], ["pl_PL"], overwrite=True
        )
        self.env["insurance.notify.rule"].search([]).action_archive()
        # Only this test's message reaches the gateway.
        self.env["insurance.notify.message"].search([]).unlink()
        self.env.ref("base.PLN").active = True
        gateway = self.env.ref("insurance_notify.gateway_sandbox")
        gateway.write({"cost_per_part": 0.16, "currency_id": self.env.ref("base.PLN").id})
        self.broker = new_test_user(
            self.env,
            login="tour_broker_pl",
            password="tour_broker_pl",
            name="Anna Nowicka",
            lang="pl_PL",
            tz="Europe/Warsaw",
            groups="insurance_notify.group_insurance_manager",
        )
        self.broker.mobile = "+48 600 700 800"
        self.insurer = self.env["res.partner"].create({"name": "PZU SA", "is_insurer": True})
        client = self.env["res.partner"].create(
            {
                "name": "Katarzyna Wiśniewska",
                "lang": "pl_PL",
                "tz": "Europe/Warsaw",
                "mobile": "+48 601 222 333",
                "country_id": self.env.ref("base.pl").id,
            }
        )
        self.today = fields.Date.context_today(self.broker.with_context(tz="Europe/Warsaw"))
        self.policy = self.env["insurance.policy"].create(
            {
                "name": "TOUR/PL/1",
                "partner_id": client.id,
                "insurer_id": self.insurer.id,
                "product_id": self.env["insurance.product"].create({"name": "OC/AC"}).id,
                "vehicle_model": "Skoda Octavia",
                "vehicle_plate": "WX 12345",
                "subject": "Skoda Octavia WX 12345",
                "currency_id": self.env.ref("base.PLN").id,
                "date_start": self.today - timedelta(days=300),
                # Seven days before its end is tomorrow.
                "date_end": self.today + timedelta(days=8),
                "user_id": self.broker.id,
                "state": "valid",
            }
        )
        self.env["insurance.notify.rule"].create(
            {
                "name": "Koniec polisy: SMS 7 dni przed",
                "event_type": "policy_expiry",
                "channel": "sms",
                "offsets": "7",
                "insurer_ids": self.insurer.ids,  # not the demo book's policies
                "sms_template_id": self.env.ref("insurance_notify.sms_template_policy_expiry").id,
            }
        )
        SandboxGateway.reset()

    def test_the_dry_run_shows_what_the_gateway_receives(self):
        self.start_tour("/odoo", "insurance_notify_dry_run_polish", login="tour_broker_pl")

        line = self.env["insurance.notify.dry.run.line"].search(
            [("record_ref", "=", f"insurance.policy,{self.policy.id}")]
        )
        date_end = self.policy.date_end.strftime("%d.%m.%Y")
        self.assertEqual(
            line.text,
            f"Przypominamy: polisa TOUR/PL/1 (Skoda Octavia WX 12345) wygasa {date_end}. "
            "W sprawie wznowienia prosimy o kontakt: Anna Nowicka, +48600700800.",
        )
        self.assertEqual((line.sms_parts, line.currency_id.name), (1, "PLN"))
        self.assertAlmostEqual(line.cost, 0.16)

        # Tomorrow at 10:00 in Warsaw the crons send it: the very same text.
        tomorrow = datetime.combine(self.today + timedelta(days=1), time(10))
        moment = pytz.timezone("Europe/Warsaw").localize(tomorrow).astimezone(pytz.utc)
        Message = self.env["insurance.notify.message"]
        self.patch(type(Message), "_now", lambda _self: moment.replace(tzinfo=None))
        self.env["insurance.notify.rule"]._cron_plan()
        Message._cron_dispatch()
        self.assertEqual([sms.body for sms in SandboxGateway.outbox], [line.text])
