from datetime import datetime, time, timedelta

import pytz

from odoo.tests import tagged
from odoo.tests.common import new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyHttpCase


class DryRunLanguageTour:
    """A broker's dry run shows the client's SMS exactly as the gateway then
    receives it: the client's words, date format and currency."""

    LANG = TZ = TOUR = CURRENCY = ""
    BROKER = CLIENT = NUMBER = ""
    BROKER_MOBILE = CLIENT_MOBILE = ""
    DATE_FORMAT = EXPECTED = ""

    def setUp(self):
        super().setUp()
        self.env["res.lang"]._activate_lang(self.LANG)
        self.env["ir.module.module"]._load_module_terms(
            ["insurance_notify", "web"], [self.LANG], overwrite=True
        )
        self.env["insurance.notify.rule"].search([]).action_archive()
        # Only this test's message reaches the gateway.
        self.env["insurance.notify.message"].search([]).unlink()
        currency = self.env.ref(self.CURRENCY)
        currency.active = True
        company = self.env.company
        gateway = self.env.ref("insurance_notify.gateway_sandbox")
        gateway.write({"cost_per_part": 0.16, "currency_id": currency.id})
        self.broker = new_test_user(
            self.env,
            login=f"tour_broker_{self.LANG}",
            password=f"tour_broker_{self.LANG}",
            name=self.BROKER,
            lang=self.LANG,
            tz=self.TZ,
            company_id=company.id,
            groups="insurance_notify.group_insurance_manager",
        )
        self.broker.mobile = self.BROKER_MOBILE
        self.insurer = self.env["res.partner"].create({"name": "Tour Insurer", "is_insurer": True})
        client = self.env["res.partner"].create(
            {"name": self.CLIENT, "lang": self.LANG, "tz": self.TZ, "mobile": self.CLIENT_MOBILE}
        )
        # The dry run's "tomorrow" is the planner's, whatever the hour here.
        self.today = self.env["insurance.notify.message"]._today()
        self.policy = self.env["insurance.policy"].create(
            {
                "name": self.NUMBER,
                "partner_id": client.id,
                "insurer_id": self.insurer.id,
                "product_id": self.env["insurance.product"].create({"name": "OC/AC"}).id,
                "vehicle_model": "Skoda Octavia",
                "vehicle_plate": "WX 12345",
                "subject": "Skoda Octavia WX 12345",
                "currency_id": currency.id,
                "date_start": self.today - timedelta(days=300),
                # Seven days before its end is tomorrow.
                "date_end": self.today + timedelta(days=8),
                "user_id": self.broker.id,
                "state": "valid",
            }
        )
        self.env["insurance.notify.rule"].create(
            {
                "name": "Tour: policy ends, SMS 7 days before",
                "event_type": "policy_expiry",
                "channel": "sms",
                "offsets": "7",
                "insurer_ids": self.insurer.ids,  # not the demo book's policies
                "timezone": self.TZ,
                "sms_template_id": self.env.ref("insurance_notify.sms_template_policy_expiry").id,
            }
        )
        SandboxGateway.reset()

    def test_the_dry_run_shows_what_the_gateway_receives(self):
        self.start_tour("/odoo", self.TOUR, login=f"tour_broker_{self.LANG}")

        line = self.env["insurance.notify.dry.run.line"].search(
            [("record_ref", "=", f"insurance.policy,{self.policy.id}")]
        )
        date_end = self.policy.date_end.strftime(self.DATE_FORMAT)
        self.assertEqual(line.text, self.EXPECTED.format(date=date_end))
        self.assertEqual((line.sms_parts, line.currency_id), (1, self.env.ref(self.CURRENCY)))
        self.assertAlmostEqual(line.cost, 0.16)

        # Tomorrow at 10:00 the crons send it: the very same text.
        tomorrow = datetime.combine(self.today + timedelta(days=1), time(10))
        moment = pytz.timezone(self.TZ).localize(tomorrow).astimezone(pytz.utc)
        Message = self.env["insurance.notify.message"]
        self.patch(type(Message), "_now", lambda _self: moment.replace(tzinfo=None))
        self.env["insurance.notify.rule"]._cron_plan()
        Message._cron_dispatch()
        self.assertEqual([sms.body for sms in SandboxGateway.outbox], [line.text])


@tagged("post_install", "-at_install")
class TestDryRunPolishTour(DryRunLanguageTour, NotifyHttpCase):
    LANG, TZ, TOUR, CURRENCY = (
        "pl_PL",
        "Europe/Warsaw",
        "insurance_notify_dry_run_polish",
        "base.PLN",
    )
    BROKER, CLIENT, NUMBER = "Anna Nowicka", "Katarzyna Wiśniewska", "TOUR/PL/1"
    BROKER_MOBILE, CLIENT_MOBILE = "+48 600 700 800", "+48 601 222 333"
    DATE_FORMAT = "%d.%m.%Y"
    EXPECTED = (
        "Przypominamy: polisa TOUR/PL/1 (Skoda Octavia WX 12345) wygasa {date}. "
        "W sprawie wznowienia prosimy o kontakt: Anna Nowicka, +48 600 700 800."
    )


@tagged("post_install", "-at_install")
class TestDryRunLithuanianTour(DryRunLanguageTour, NotifyHttpCase):
    LANG, TZ, TOUR, CURRENCY = (
        "lt_LT",
        "Europe/Vilnius",
        "insurance_notify_dry_run_lithuanian",
        "base.EUR",
    )
    BROKER, CLIENT, NUMBER = "Žydrūnas Šimkūnas", "Rūta Žemaitienė", "TOUR/LT/1"
    BROKER_MOBILE, CLIENT_MOBILE = "+370 612 34567", "+370 698 76543"
    DATE_FORMAT = "%Y-%m-%d"
    EXPECTED = (
        "Primename: polisas TOUR/LT/1 (Skoda Octavia WX 12345) baigia galioti {date}. "
        "Del pratesimo kreipkites: Zydrunas Simkunas, +370 612 34567."
    )
