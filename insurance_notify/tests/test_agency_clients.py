"""A client belongs to the agencies that serve them (issue 16, item 3).

Two agencies share one database: the Polish one (the main company) and a
Lithuanian one. A client created from the Clients menu has no company and is
seen by both. Each agency plans its birthday and consent-renewal reminders for
its own clients only (a card of the company, or a shared card holding one of
its policies), keeps its own consents with their own trail, and only the
agencies holding a client's policies change the client's contact data.
Tried as each agency's broker and manager and as a portal user.
"""

import importlib.util
from datetime import date, timedelta
from pathlib import Path

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from ..lib.notify_engine.gateways import SandboxGateway
from .common import NotifyCase


class AgencyCase(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_pl = cls.env.ref("base.main_company")
        cls.company_lt = cls.env["res.company"].create(
            {"name": "Agentūra LT", "country_id": cls.env.ref("base.lt").id}
        )
        for company in cls.company_pl | cls.company_lt:
            cls.env["insurance.notify.gateway"].create(
                {
                    "name": f"Sandbox {company.name}",
                    "provider": "sandbox",
                    "company_id": company.id,
                    "sequence": -1,
                }
            )

        def user(login, groups, company):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
                tz="Europe/Warsaw",
            )

        broker = "base.group_user,insurance_notify.group_insurance_user"
        manager = "base.group_user,insurance_notify.group_insurance_manager"
        cls.broker_pl = user("agency_broker_pl", broker, cls.company_pl)
        cls.broker_lt = user("agency_broker_lt", broker, cls.company_lt)
        cls.manager_pl = user("agency_manager_pl", manager, cls.company_pl)
        cls.manager_lt = user("agency_manager_lt", manager, cls.company_lt)
        cls.portal = user("agency_portal", "base.group_portal", cls.company_pl)

        cls.partner_template = cls.env["sms.template"].create(
            {
                "name": "Partner",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "body": "Dear {{ object.name }}",
            }
        )
        cls.partner_template_lt = cls.partner_template.copy(
            {"name": "Partner LT", "body": "Sveiki, {{ object.name }}"}
        )
        # A Polish client (only a Polish policy) and a Lithuanian one (only a
        # Lithuanian policy), both shared cards as the Clients menu makes them.
        cls.client_pl = cls.client
        cls.client_lt = cls.env["res.partner"].create(
            {
                "name": "Jonas Kazlauskas",
                "mobile": "+370 686 88960",
                "email": "jonas@example.com",
                "country_id": cls.env.ref("base.lt").id,
                "tz": "Europe/Vilnius",
                "lang": "en_US",
            }
        )
        cls.client_pl.email = "jan@example.com"
        cls.policy_pl = cls.make_agency_policy(cls.client_pl, cls.company_pl)
        cls.policy_lt = cls.make_agency_policy(cls.client_lt, cls.company_lt)
        birthday = date(1980, cls.TODAY.month, cls.TODAY.day)
        valid_until = cls.TODAY + timedelta(days=14)
        consents = {
            "consent_sms": True,
            "consent_email": True,
            "consent_marketing": True,
            "consent_birthday": True,
            "consent_valid_until": valid_until,
        }
        # Both agencies hold every consent of both clients: what keeps a
        # reminder away is whose client it is, not a missing consent.
        for company in cls.company_pl | cls.company_lt:
            (cls.client_pl | cls.client_lt).with_company(company).write(consents)
        (cls.client_pl | cls.client_lt).write({"birthdate": birthday})

    @classmethod
    def make_agency_policy(cls, partner, company):
        return cls.env["insurance.policy"].create(
            {
                "name": f"AG/{partner.id}/{company.id}",
                "partner_id": partner.id,
                "insurer_id": cls.insurer.id,
                "product_id": cls.product.id,
                "date_start": cls.TODAY - timedelta(days=100),
                "date_end": cls.TODAY + timedelta(days=265),
                "state": "valid",
                "company_id": company.id,
            }
        )

    def partner_rule(self, event_type, company, offsets="0"):
        template = self.partner_template if company == self.company_pl else self.partner_template_lt
        # Created as the planner cron plans: in the main company's environment.
        return self.Rule.create(
            {
                "name": f"{event_type} {company.name}",
                "event_type": event_type,
                "channel": "sms",
                "offsets": offsets,
                "sms_template_id": template.id,
                "company_id": company.id,
                "consent_mode": "specific" if event_type == "birthday" else "none",
            }
        )

    def planned(self, rule):
        return self.Message.search([("rule_id", "=", rule.id)])


class TestPartnerEventsPerAgency(AgencyCase):
    def test_the_polish_birthday_rule_plans_nothing_for_a_lithuanian_only_client(self):
        rule_pl = self.partner_rule("birthday", self.company_pl)
        rule_lt = self.partner_rule("birthday", self.company_lt)
        self.run_crons()
        self.assertEqual(self.planned(rule_pl).partner_id, self.client_pl)
        self.assertEqual(self.planned(rule_lt).partner_id, self.client_lt)
        # What the provider received: one wish each, each in its agency's text.
        bodies = sorted((sms.number, sms.body) for sms in SandboxGateway.outbox)
        self.assertEqual(
            bodies,
            [
                ("+37068688960", "Sveiki, Jonas Kazlauskas"),
                ("+48600123456", "Dear Jan Testowy"),
            ],
        )

    def test_the_polish_consent_renewal_rule_plans_nothing_for_a_lithuanian_only_client(self):
        rule_pl = self.partner_rule("consent_renewal", self.company_pl, offsets="14")
        rule_lt = self.partner_rule("consent_renewal", self.company_lt, offsets="14")
        self.assertEqual(self.planned(rule_pl).partner_id, self.client_pl)
        self.assertEqual(self.planned(rule_lt).partner_id, self.client_lt)

    def test_the_consent_renewal_follows_each_agencys_own_end_date(self):
        # The Lithuanian agency renewed its consents for a year: its
        # reminder is not due; the Polish one's still is.
        self.client_lt.with_company(self.company_lt).consent_valid_until = self.TODAY + timedelta(
            days=365
        )
        self.make_agency_policy(self.client_lt, self.company_pl)
        rule_pl = self.partner_rule("consent_renewal", self.company_pl, offsets="14")
        rule_lt = self.partner_rule("consent_renewal", self.company_lt, offsets="14")
        self.assertEqual(self.planned(rule_pl).partner_id, self.client_pl | self.client_lt)
        self.assertEqual(self.planned(rule_lt).partner_id, self.client_pl.browse())

    def test_a_shared_card_without_policies_is_nobodys_client(self):
        nobody = self.env["res.partner"].create(
            {"name": "Contact of another app", "mobile": "+48 600 999 111"}
        )
        for company in self.company_pl | self.company_lt:
            nobody.with_company(company).write(
                {"consent_birthday": True, "consent_sms": True, "birthdate": date(1990, 11, 23)}
            )
        rules = self.partner_rule("birthday", self.company_pl) | self.partner_rule(
            "birthday", self.company_lt
        )
        self.assertFalse(
            self.Message.search([("rule_id", "in", rules.ids)]).filtered(
                lambda message: message.partner_id == nobody
            )
        )

    def test_a_card_of_the_company_is_its_client_without_a_policy(self):
        own = self.env["res.partner"].create(
            {
                "name": "Klient firmy",
                "mobile": "+48 600 999 222",
                "company_id": self.company_pl.id,
                "birthdate": date(1990, 11, 23),
            }
        )
        own.with_company(self.company_pl).consent_birthday = True
        rule_pl = self.partner_rule("birthday", self.company_pl)
        rule_lt = self.partner_rule("birthday", self.company_lt)
        self.assertIn(own, self.planned(rule_pl).partner_id)
        self.assertNotIn(own, self.planned(rule_lt).partner_id)

    def test_a_send_by_hand_reaches_only_the_agencys_clients(self):
        rule_pl = self.partner_rule("birthday", self.company_pl)
        self.Message.search([("rule_id", "=", rule_pl.id)]).unlink()
        messages = rule_pl._plan_records(self.client_pl | self.client_lt, self.TODAY)
        self.assertEqual(messages.partner_id, self.client_pl)

    def test_planning_keeps_a_constant_number_of_queries(self):
        rule = self.partner_rule("birthday", self.company_pl)
        self.Message.search([("rule_id", "=", rule.id)]).unlink()

        def queries_to_find():
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            rule._find_occurrences(self.TODAY, self.TODAY)
            return self.env.cr.sql_log_count - before

        few = queries_to_find()
        for number in range(8):
            partner = self.env["res.partner"].create(
                {"name": f"Klient {number}", "birthdate": date(1980, 11, 23)}
            )
            self.make_agency_policy(partner, self.company_pl)
            self.make_agency_policy(partner, self.company_lt)
        self.env.flush_all()
        self.assertEqual(len(rule._find_occurrences(self.TODAY, self.TODAY)), 9)
        self.assertEqual(queries_to_find(), few)


class TestConsentPerAgency(AgencyCase):
    def consents(self, partner, company, name="consent_sms"):
        return partner.with_company(company)[name]

    def trail(self, user, partner):
        return (
            self.env["insurance.consent.log"]
            .with_user(user)
            .search([("partner_id", "=", partner.id)])
        )

    def test_the_lithuanian_broker_cannot_withdraw_the_polish_consent(self):
        pl_trail = self.trail(self.manager_pl, self.client_pl)
        self.client_pl.with_user(self.broker_lt).withdraw_consent("sms")
        self.client_pl.with_user(self.broker_lt).write({"consent_marketing": False})
        self.assertTrue(self.consents(self.client_pl, self.company_pl))
        self.assertTrue(self.consents(self.client_pl, self.company_pl, "consent_marketing"))
        self.assertFalse(self.consents(self.client_pl, self.company_lt))
        # The Polish trail is as it was; the Lithuanian one shows its own change.
        self.assertEqual(self.trail(self.manager_pl, self.client_pl), pl_trail)
        lt_changes = self.trail(self.manager_lt, self.client_pl).filtered(
            lambda log: log.user_id == self.broker_lt
        )
        self.assertRecordValues(
            lt_changes.sorted("consent"),
            [
                {"consent": "consent_marketing", "company_id": self.company_lt.id},
                {"consent": "consent_sms", "company_id": self.company_lt.id},
            ],
        )
        # Nor through the Polish company: it is not one of theirs.
        with self.assertRaises(AccessError):
            self.client_pl.with_user(self.broker_lt).with_company(self.company_pl).write(
                {"consent_sms": False}
            )
        self.assertTrue(self.consents(self.client_pl, self.company_pl))

    def test_a_polish_withdrawal_stops_only_polish_reminders(self):
        self.make_agency_policy(self.client_lt, self.company_pl)
        self.client_lt.with_user(self.broker_pl).withdraw_consent("sms")
        rule_pl = self.partner_rule("birthday", self.company_pl)
        rule_lt = self.partner_rule("birthday", self.company_lt)
        self.assertRecordValues(
            self.planned(rule_pl).filtered(lambda m: m.partner_id == self.client_lt),
            [{"state": "skipped", "reason_code": "no_sms_consent"}],
        )
        self.assertEqual(
            self.planned(rule_lt).filtered(lambda m: m.partner_id == self.client_lt).state,
            "queued",
        )

    def test_a_withdrawal_after_planning_wins_in_its_agency_only(self):
        self.make_agency_policy(self.client_lt, self.company_pl)
        rule_pl = self.partner_rule("birthday", self.company_pl)
        rule_lt = self.partner_rule("birthday", self.company_lt)
        self.client_lt.with_user(self.broker_lt).withdraw_consent("sms")
        self.Message._cron_dispatch()
        lt_message = self.planned(rule_lt)
        self.assertRecordValues(lt_message, [{"state": "skipped", "reason_code": "no_sms_consent"}])
        pl_message = self.planned(rule_pl).filtered(lambda m: m.partner_id == self.client_lt)
        self.assertEqual(pl_message.state, "sent")
        self.assertEqual([sms.number for sms in SandboxGateway.outbox].count("+37068688960"), 1)

    def test_a_stop_to_the_lithuanian_number_withdraws_the_lithuanian_consent(self):
        self.env["res.partner"]._insurance_opt_out_number("+37068688960", self.company_lt, "STOP")
        self.assertFalse(self.consents(self.client_lt, self.company_lt))
        self.assertTrue(self.consents(self.client_lt, self.company_pl))
        stop = self.trail(self.manager_lt, self.client_lt).filtered(
            lambda log: log.source == "stop"
        )
        self.assertEqual(stop.company_id, self.company_lt)
        self.assertFalse(
            self.trail(self.manager_pl, self.client_lt).filtered(lambda log: log.source == "stop")
        )

    def test_an_unsubscribe_link_withdraws_the_email_consent_with_each_agency(self):
        # The address goes on Odoo's blacklist, which both agencies share:
        # each withdraws, and each trail shows its own withdrawal.
        self.client_lt._insurance_unsubscribe("jonas@example.com")
        for company, manager in (
            (self.company_pl, self.manager_pl),
            (self.company_lt, self.manager_lt),
        ):
            with self.subTest(company=company.name):
                self.assertFalse(self.consents(self.client_lt, company, "consent_email"))
                portal = self.trail(manager, self.client_lt).filtered(
                    lambda log: log.source == "portal"
                )
                self.assertRecordValues(
                    portal, [{"consent": "consent_email", "company_id": company.id}]
                )
        self.assertTrue(self.consents(self.client_lt, self.company_lt, "consent_sms"))


class TestContactDataPerAgency(AgencyCase):
    def test_the_lithuanian_broker_cannot_change_the_polish_clients_email(self):
        for user in (self.broker_lt, self.manager_lt):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.client_pl.with_user(user).write({"email": "attacker@example.com"})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.client_pl.with_user(user).write({"mobile": "+370 600 00000"})
        self.assertEqual(self.client_pl.email, "jan@example.com")
        self.assertEqual(self.client_pl.phone_sanitized, "+48600123456")

    def test_the_polish_broker_changes_the_polish_clients_email(self):
        self.client_pl.with_user(self.broker_pl).write({"email": "jan.nowy@example.com"})
        self.assertEqual(self.client_pl.email, "jan.nowy@example.com")

    def test_a_client_of_both_agencies_is_edited_by_both(self):
        self.make_agency_policy(self.client_pl, self.company_lt)
        self.client_pl.with_user(self.broker_lt).write({"email": "jan.lt@example.com"})
        self.client_pl.with_user(self.broker_pl).write({"email": "jan.pl@example.com"})
        self.assertEqual(self.client_pl.email, "jan.pl@example.com")

    def test_a_shared_contact_without_policies_stays_editable_as_in_stock_odoo(self):
        contact = self.env["res.partner"].create({"name": "Kontakt"})
        contact.with_user(self.broker_lt).write({"email": "kontakt@example.com"})
        self.assertEqual(contact.email, "kontakt@example.com")

    def test_a_portal_user_cannot_change_a_client(self):
        with self.assertRaises(AccessError):
            self.client_pl.with_user(self.portal).write({"email": "portal@example.com"})
        self.assertEqual(self.client_pl.email, "jan@example.com")


class TestUpgradeKeepsConsents(AgencyCase):
    def test_the_upgrade_gives_each_consent_to_every_company_that_had_it(self):
        path = Path(__file__).parent.parent / "migrations/18.0.1.3.0/pre-agency-consents.py"
        spec = importlib.util.spec_from_file_location("pre_agency_consents", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        own_lt = self.env["res.partner"].create(
            {"name": "Klientas", "company_id": self.company_lt.id}
        )
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SELECT count(*) FROM insurance_consent_log")
        trail = cr.fetchone()[0]
        # Back to the columns of 18.0.1.2.0 (one value per card, for every
        # company), inside this test's transaction, which rolls them back.
        old_values = {
            "consent_sms": {self.client_pl.id: True, self.client_lt.id: False, own_lt.id: True},
            "consent_valid_until": {self.client_pl.id: "2027-03-01"},
        }
        for column, values in old_values.items():
            kind = "date" if column == "consent_valid_until" else "boolean"
            cr.execute(f"ALTER TABLE res_partner RENAME COLUMN {column} TO {column}_now")
            cr.execute(f"ALTER TABLE res_partner ADD COLUMN {column} {kind}")
            cr.execute(f"ALTER TABLE res_partner DROP COLUMN {column}_now")
            for partner_id, value in values.items():
                cr.execute(
                    f"UPDATE res_partner SET {column} = %s WHERE id = %s", [value, partner_id]
                )
        migration.migrate(cr, "18.0.1.2.0")
        self.env.invalidate_all()
        for company in self.env["res.company"].search([]):
            with self.subTest(company=company.name):
                self.assertIs(self.client_pl.with_company(company).consent_sms, True)
                self.assertIs(self.client_lt.with_company(company).consent_sms, False)
                self.assertEqual(
                    self.client_pl.with_company(company).consent_valid_until, date(2027, 3, 1)
                )
                self.assertFalse(self.client_lt.with_company(company).consent_valid_until)
        # A company's card had its consent with that company only.
        cr.execute("SELECT consent_sms FROM res_partner WHERE id = %s", [own_lt.id])
        self.assertEqual(cr.fetchone()[0], {str(self.company_lt.id): True})
        # The trail is not touched by the upgrade.
        cr.execute("SELECT count(*) FROM insurance_consent_log")
        self.assertEqual(cr.fetchone()[0], trail)
