from datetime import date

from odoo.exceptions import RedirectWarning, ValidationError
from odoo.tests.common import new_test_user
from odoo.tools import format_date

from .common import NotifyCase

PARAMS = "insurance_notify."


class ClientCase(NotifyCase):
    def setUp(self):
        super().setUp()
        # What our Clients menu and a policy's client field set (CLIENT_CONTEXT).
        self.Partner = self.env["res.partner"].with_context(insurance_client=True)
        self.pl = self.env.ref("base.pl")
        self.lt = self.env.ref("base.lt")

    def set_param(self, name, value):
        self.env["ir.config_parameter"].sudo().set_param(PARAMS + name, value)


class TestMobileNormalization(ClientCase):
    def test_polish_and_lithuanian_numbers_are_stored_in_e164(self):
        for raw, country, expected in (
            ("600 123 456", self.pl, "+48600123456"),
            ("0048600123456", self.pl, "+48600123456"),
            ("48 600 123 456", self.pl, "+48600123456"),
            ("8-686 88960", self.lt, "+37068688960"),
            ("+370 686 88960", self.pl, "+37068688960"),
        ):
            with self.subTest(raw=raw):
                partner = self.Partner.create(
                    {"name": "Client", "mobile": raw, "country_id": country.id}
                )
                self.assertEqual(partner.mobile, expected)
                self.assertEqual(partner.phone_sanitized, expected)

    def test_without_a_country_the_companys_country_reads_the_number(self):
        self.env.company.country_id = self.lt
        partner = self.Partner.create({"name": "No Country", "mobile": "8-686 88960"})
        self.assertEqual(partner.mobile, "+37068688960")

    def test_editing_reads_each_number_in_its_clients_country(self):
        polish, lithuanian = self.Partner.create(
            [
                {"name": "PL", "country_id": self.pl.id},
                {"name": "LT", "country_id": self.lt.id},
            ]
        )
        # A Lithuanian mobile, and a landline of Łomża in Poland: refused there.
        with self.assertRaisesRegex(ValidationError, "not a mobile number in Poland"):
            (polish | lithuanian).write({"mobile": "868 688 960"})
        lithuanian.write({"mobile": "868 688 960"})
        self.assertEqual(lithuanian.mobile, "+37068688960")

    def test_an_unreadable_number_is_refused_with_the_expected_format(self):
        for raw in ("12", "call me", "600 123 45"):
            with (
                self.subTest(raw=raw),
                self.assertRaisesRegex(
                    ValidationError, r"cannot be read.*international form.*\+48 600 123 456"
                ),
            ):
                self.Partner.create({"name": "Bad", "mobile": raw, "country_id": self.pl.id})
        partner = self.Partner.create(
            {"name": "Good", "mobile": "600123456", "country_id": self.pl.id}
        )
        with self.assertRaisesRegex(ValidationError, "“abc” cannot be read"):
            partner.write({"mobile": "abc"})
        self.assertEqual(partner.mobile, "+48600123456")

    def test_an_empty_mobile_is_allowed(self):
        self.client.mobile = False
        self.assertFalse(self.client.mobile)


class TestDuplicateClients(ClientCase):
    def setUp(self):
        super().setUp()
        self.set_param("prevent_duplicate_clients", "True")
        self.existing = self.Partner.create(
            {
                "name": "Existing Client",
                "mobile": "+48 601 111 222",
                "email": "Ewa.Nowak@Example.com",
                "country_id": self.pl.id,
            }
        )

    def test_the_same_number_in_another_format_is_refused_naming_the_client(self):
        with self.assertRaisesRegex(
            RedirectWarning, "Existing Client already has the mobile number \\+48601111222"
        ):
            self.Partner.create(
                {"name": "Dup", "mobile": "0048 601-111-222", "country_id": self.pl.id}
            )

    def test_the_same_email_in_another_case_is_refused(self):
        with self.assertRaisesRegex(RedirectWarning, "Existing Client already has the e-mail"):
            self.Partner.create({"name": "Dup", "email": "ewa.nowak@EXAMPLE.com"})

    def test_editing_into_a_duplicate_is_refused(self):
        other = self.Partner.create(
            {"name": "Other", "mobile": "602 000 000", "country_id": self.pl.id}
        )
        with self.assertRaisesRegex(RedirectWarning, "Existing Client"), self.cr.savepoint():
            other.write({"mobile": "601 111 222"})
        other.invalidate_recordset()
        self.assertEqual(other.mobile, "+48602000000")
        other.email = "someone.else@example.com"
        self.assertEqual(other.email, "someone.else@example.com")

    def test_duplicates_inside_one_batch_are_refused(self):
        with self.assertRaisesRegex(RedirectWarning, "already has the mobile number"):
            self.Partner.create(
                [
                    {"name": "Twin A", "mobile": "603 000 000", "country_id": self.pl.id},
                    {"name": "Twin B", "mobile": "+48603000000"},
                ]
            )

    def test_an_import_row_with_a_duplicate_is_refused(self):
        result = self.Partner.with_context(import_file=True).load(
            ["name", "mobile", "country_id"],
            [["Imported", "601111222", "Poland"], ["Fine", "604000000", "Poland"]],
        )
        errors = [m for m in result["messages"] if m["type"] == "error"]
        self.assertEqual(len(errors), 1)
        self.assertIn("Existing Client", errors[0]["message"])

    def test_a_batch_costs_one_query_whatever_its_size(self):
        vals_list = [
            {"name": f"Bulk {index}", "mobile": f"+48 605 000 {index:03d}"} for index in range(50)
        ]
        partners = self.Partner.create(vals_list[:2])
        with self.assertQueryCount(__system__=1):
            partners._check_no_duplicate_clients()
        partners = self.Partner.create(vals_list[2:])
        with self.assertQueryCount(__system__=1):
            partners._check_no_duplicate_clients()

    def test_without_the_setting_duplicates_are_allowed(self):
        self.set_param("prevent_duplicate_clients", False)
        twin = self.Partner.create(
            {"name": "Twin", "mobile": "601 111 222", "country_id": self.pl.id}
        )
        self.assertEqual(twin.mobile, self.existing.mobile)

    def test_the_refusal_opens_the_existing_client(self):
        broker = new_test_user(
            self.env,
            login="broker_duplicates",
            groups="insurance_notify.group_insurance_user,base.group_partner_manager",
        )
        with self.assertRaises(RedirectWarning) as refusal:
            self.Partner.with_user(broker).create(
                {"name": "Dup", "mobile": "601 111 222", "country_id": self.pl.id}
            )
        message, action, button = refusal.exception.args[:3]
        self.assertIn("Shared Number", message)
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", self.existing.id))
        self.assertEqual(button, "Open Existing Client")

    def test_a_shared_family_number_is_saved_when_the_user_confirms(self):
        wife = self.Partner.create(
            {
                "name": "Anna Nowak",
                "mobile": "601 111 222",
                "country_id": self.pl.id,
                "insurance_shared_contact": True,
            }
        )
        self.assertEqual(wife.mobile, self.existing.mobile)
        # Unticking it while the number is still shared is refused again.
        with self.assertRaises(RedirectWarning), self.cr.savepoint():
            wife.write({"insurance_shared_contact": False})

    def test_a_number_another_app_kept_as_typed_is_a_duplicate_too(self):
        self.env["res.partner"].create(
            {"name": "Typed Elsewhere", "mobile": "606 111 222", "country_id": self.pl.id}
        )
        with self.assertRaisesRegex(RedirectWarning, "Typed Elsewhere already has the mobile"):
            self.Partner.create({"name": "Ours", "mobile": "+48606111222"})

    def test_odoo_creates_duplicates_without_a_refusal_and_flags_them(self):
        # A website form, a portal sign-up, a cron: in sudo, no insurance context.
        twin = self.env["res.partner"].create(
            {"name": "Web Visitor", "mobile": "601 111 222", "email": "ewa.nowak@example.com"}
        )
        self.assertEqual(twin.mobile, "601 111 222")
        self.assertTrue(twin.insurance_duplicate_review)
        self.assertFalse(self.existing.insurance_duplicate_review)


class TestOtherAppsPartners(ClientCase):
    """Partners made by other apps are never refused (invariant 7)."""

    def test_an_unreadable_number_from_another_app_is_kept_and_flagged(self):
        partner = self.env["res.partner"].create(
            {"name": "Lead Contact", "mobile": "call after 5pm", "country_id": self.pl.id}
        )
        self.assertEqual(partner.mobile, "call after 5pm")
        self.assertTrue(partner.insurance_mobile_unreadable)
        partner.write({"mobile": "600 123 457"})
        self.assertEqual(partner.mobile, "600 123 457")
        self.assertFalse(partner.insurance_mobile_unreadable)
        self.assertEqual(partner.phone_sanitized, "+48600123457")

    def test_a_portal_signup_and_a_mail_gateway_contact_are_created(self):
        portal = new_test_user(self.env, login="portal_client", groups="base.group_portal")
        portal.partner_id.sudo().write({"mobile": "12"})
        self.assertTrue(portal.partner_id.insurance_mobile_unreadable)
        partner_id, _name = self.env["res.partner"].name_create("Mail Sender <x@example.com>")
        self.assertTrue(self.env["res.partner"].browse(partner_id).exists())

    def test_an_import_by_another_app_keeps_the_rows(self):
        result = (
            self.env["res.partner"]
            .with_context(import_file=True)
            .load(["name", "mobile"], [["Imported A", "n/a"], ["Imported B", "601 111 222"]])
        )
        self.assertFalse([m for m in result["messages"] if m["type"] == "error"])
        self.assertEqual(len(result["ids"]), 2)


class TestConsents(ClientCase):
    def test_new_clients_get_the_default_consents_of_the_settings(self):
        self.set_param("default_consent_phone", "True")
        self.set_param("default_consent_email", False)
        phone_only = self.Partner.create({"name": "Phone Person"})
        self.assertRecordValues(
            phone_only,
            [
                {
                    "consent_sms": True,
                    "consent_whatsapp": True,
                    "consent_viber": True,
                    "consent_email": False,
                }
            ],
        )
        self.set_param("default_consent_phone", False)
        self.set_param("default_consent_email", "True")
        email_only = self.Partner.create({"name": "Mail Person"})
        self.assertRecordValues(
            email_only,
            [
                {
                    "consent_sms": False,
                    "consent_whatsapp": False,
                    "consent_viber": False,
                    "consent_email": True,
                }
            ],
        )

    def test_every_change_is_logged_with_who_and_where(self):
        partner = self.Partner.create(
            {"name": "Consenting", "consent_sms": True, "mobile": "+48 600 999 111"}
        )
        self.assertRecordValues(
            partner.consent_log_ids,
            [
                {
                    "consent": "consent_sms",
                    "old_display": "Not given",
                    "new_display": "Given",
                    "source": "form",
                }
            ],
        )
        partner.write(
            {"consent_marketing": True, "consent_valid_until": "2027-11-23", "name": "Renamed"}
        )
        # The entry point says where a change comes from, never the caller.
        partner.with_context(import_file=True, consent_source="portal").write(
            {"consent_whatsapp": True}
        )
        xmlid = partner.export_data(["id"])["datas"][0][0]
        result = self.Partner.with_context(import_file=True).load(
            ["id", "consent_email"], [[xmlid, "True"]]
        )
        self.assertFalse(result["messages"])
        partner.email = "consenting@example.com"
        partner._insurance_unsubscribe("consenting@example.com")
        self.Partner._insurance_opt_out_number("+48600999111", self.env.company, "STOP")
        partner.write({"consent_sms": False})  # no change, no line

        logs = partner.consent_log_ids.sorted("id")
        self.assertEqual(
            [(log.consent, log.new_display, log.source) for log in logs],
            [
                ("consent_sms", "Given", "form"),
                ("consent_marketing", "Given", "form"),
                # In the reader's date format, whatever it is.
                ("consent_valid_until", format_date(logs.env, date(2027, 11, 23)), "form"),
                ("consent_whatsapp", "Given", "form"),
                ("consent_email", "Given", "import"),
                ("consent_email", "Not given", "portal"),
                ("consent_sms", "Not given", "stop"),
            ],
        )
        self.assertEqual(logs.user_id, self.env.user)
        self.assertTrue(all(logs.mapped("date")))
        self.assertEqual(logs.company_id, self.env.company)

    def test_a_user_without_rights_on_the_log_still_leaves_a_trail(self):
        user = self.env["res.users"].create(
            {
                "name": "Broker",
                "login": "broker_consents",
                "groups_id": [
                    (
                        6,
                        0,
                        [
                            self.env.ref("insurance_notify.group_insurance_user").id,
                            self.env.ref("base.group_partner_manager").id,
                        ],
                    )
                ],
            }
        )
        self.client.with_user(user).consent_sms = True
        log = self.client.consent_log_ids
        self.assertEqual((log.user_id, log.new_display), (user, "Given"))

    def test_withdrawing_an_unknown_channel_is_a_programming_error(self):
        with self.assertRaises(ValueError):
            self.client.withdraw_consent("pigeon")


class TestClientCardCounts(ClientCase):
    def test_smart_buttons_count_policies_open_installments_and_notifications(self):
        policy = self.make_policy(7, premium_amount=100)
        self.make_policy(30, name="SECOND")
        first, _second = policy._generate_installments(2)
        first.action_mark_paid()
        self.make_rule("7")
        self.Rule._cron_plan()
        self.client.invalidate_recordset()
        self.assertEqual(self.client.insurance_policy_count, 2)
        self.assertEqual(self.client.insurance_installment_open_count, 1)
        self.assertEqual(self.client.insurance_notify_message_count, 1)
        action = self.client.action_view_insurance_installments()
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"] + [("state", "=", "open")]),
            policy.installment_ids - first,
        )
