import itertools
from datetime import date, datetime, timedelta
from unittest.mock import patch

import pytz

import odoo
from odoo.api import Environment
from odoo.tests import HttpCase, TransactionCase, tagged

from ..lib.notify_engine.gateways import SandboxGateway

WARSAW = pytz.timezone("Europe/Warsaw")


def warsaw(day, hour, minute=0):
    """A naive UTC datetime for a Warsaw wall-clock time, as Odoo stores them."""
    local = WARSAW.localize(datetime(day.year, day.month, day.day, hour, minute))
    return local.astimezone(pytz.utc).replace(tzinfo=None)


class AddonTest:
    """The clock of the runner: Odoo's own test runner marks the running test,
    pytest-odoo does not (18.0); code that must not reach the outside world
    (the outgoing mail server) looks at it."""

    def setUp(self):
        super().setUp()
        self.patch(odoo.modules.module, "current_test", self)


@tagged("post_install", "-at_install")
class NotifyHttpCase(AddonTest, HttpCase):
    """Tours run once every add-on is loaded, as Odoo's own do."""


class NotifyCase(AddonTest, TransactionCase):
    """A small book: one insurer, one product, one client with a Polish mobile."""

    TODAY = date(2026, 11, 23)
    _numbers = itertools.count(1)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Message = cls.env["insurance.notify.message"]
        cls.Rule = cls.env["insurance.notify.rule"]
        cls.insurer = cls.env["res.partner"].create({"name": "Test Insurer", "is_insurer": True})
        cls.product = cls.env["insurance.product"].create({"name": "Motor", "code": "MTR"})
        cls.client = cls.env["res.partner"].create(
            {
                "name": "Jan Testowy",
                "mobile": "+48 600 123 456",
                "country_id": cls.env.ref("base.pl").id,
                "tz": "Europe/Warsaw",
            }
        )
        cls.template = cls.env["sms.template"].create(
            {
                "name": "Expiry",
                "model_id": cls.env["ir.model"]._get_id("insurance.policy"),
                "body": "Policy {{ object.name }} ends on {{ object.date_end }}.",
            }
        )
        # The book holds only what each test makes: demo rules and policies
        # would plan messages of their own.
        cls.Rule.search([]).action_archive()
        cls.env["insurance.policy"].search([]).write({"state": "expired"})
        cls.Message.search([]).unlink()

    def setUp(self):
        super().setUp()
        SandboxGateway.reset()
        self.set_now(warsaw(self.TODAY, 10))

    def set_now(self, moment):
        self.now = moment
        self.patch(type(self.Message), "_now", lambda _self: self.now)

    def make_policy(self, days_left, state="valid", **values):
        return self.env["insurance.policy"].create(
            {
                "name": f"POL/{days_left}/{state}/{next(self._numbers)}",
                "partner_id": self.client.id,
                "insurer_id": self.insurer.id,
                "product_id": self.product.id,
                "date_start": self.TODAY - timedelta(days=365 - days_left),
                "date_end": self.TODAY + timedelta(days=days_left),
                "state": state,
                **values,
            }
        )

    def make_rule(self, offsets="7", **values):
        return self.Rule.create(
            {
                "name": f"Expiry {offsets}",
                "event_type": "policy_expiry",
                "channel": "sms",
                "offsets": offsets,
                "sms_template_id": self.template.id,
                **values,
            }
        )

    def messages_of(self, records):
        return self.Message.search(
            [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        )

    def capture_queries(self, marker, call):
        """``call()``'s result, and the queries it ran whose SQL holds ``marker``."""
        captured = []
        execute_query = Environment.execute_query

        def capture(env, query):
            if marker in query.code:
                captured.append(query)
            return execute_query(env, query)

        with patch.object(Environment, "execute_query", capture):
            result = call()
        return result, captured

    def run_crons(self):
        self.Rule._cron_plan()
        self.Message._cron_dispatch()
