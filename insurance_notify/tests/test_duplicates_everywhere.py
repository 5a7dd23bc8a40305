"""Prevent duplicate clients wherever a person enters a contact (issue 17, item 4).

The Contacts app's form and import and JSON-RPC refuse a client whose mobile
(typed differently) or e-mail (another case) another client has; Odoo's own
automatic partners (the mail gateway) are created and flagged for review.
"""

from odoo.exceptions import RedirectWarning
from odoo.tests import Form, JsonRpcException
from odoo.tests.common import new_test_user
from odoo.tools import mute_logger

from .common import NotifyCase, NotifyHttpCase

PARAM = "insurance_notify.prevent_duplicate_clients"


class DuplicateSetup:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(PARAM, "True")
        cls.pl = cls.env.ref("base.pl")
        cls.env.company.country_id = cls.pl
        cls.existing = (
            cls.env["res.partner"]
            .with_context(insurance_client=True)
            .create(
                {
                    "name": "Ewa Nowak",
                    "mobile": "+48 601 111 222",
                    "email": "Ewa.Nowak@Example.com",
                    "country_id": cls.pl.id,
                }
            )
        )
        # A plain employee: no insurance group; Odoo's default rights of a new
        # internal user, which include creating contacts.
        cls.employee = new_test_user(
            cls.env,
            login="plain_employee_dup",
            groups="base.group_user,base.group_partner_manager",
            password="Employee123!",
        )


class TestContactsApp(DuplicateSetup, NotifyCase):
    def test_the_contacts_form_refuses_the_same_mobile_typed_differently(self):
        form = Form(self.env["res.partner"].with_user(self.employee))
        form.name = "Ewa N."
        form.country_id = self.pl
        form.mobile = "601-111-222"
        with self.assertRaisesRegex(RedirectWarning, "Ewa Nowak already has the mobile number"):
            form.save()

    def test_the_contacts_form_refuses_the_same_email_in_another_case(self):
        form = Form(self.env["res.partner"].with_user(self.employee))
        form.name = "Ewa N."
        form.email = "EWA.NOWAK@example.COM"
        with self.assertRaisesRegex(RedirectWarning, "Ewa Nowak already has the e-mail"):
            form.save()

    def test_editing_a_contact_into_a_duplicate_in_the_form_is_refused(self):
        other = self.env["res.partner"].create({"name": "Adam", "country_id": self.pl.id})
        form = Form(other.with_user(self.employee))
        form.mobile = "0048 601 111 222"
        with self.assertRaisesRegex(RedirectWarning, "Ewa Nowak already has the mobile number"):
            form.save()

    def test_a_confirmed_shared_family_number_is_saved(self):
        # The tick is on the card of insurance users; the employee's RPC may set it.
        wife = (
            self.env["res.partner"]
            .with_user(self.employee)
            .create(
                {
                    "name": "Anna Nowak",
                    "mobile": "601 111 222",
                    "country_id": self.pl.id,
                    "insurance_shared_contact": True,
                }
            )
        )
        self.assertTrue(wife.insurance_shared_contact)

    def test_companies_insurers_and_one_companys_contacts_are_exempt(self):
        Partner = self.env["res.partner"].with_user(self.employee)
        company = Partner.create(
            {"name": "Nowak Sp. z o.o.", "is_company": True, "email": "ewa.nowak@example.com"}
        )
        first = Partner.create({"name": "Desk 1", "parent_id": company.id, "mobile": "603000111"})
        # A second person of the same client company with its switchboard mobile.
        second = Partner.create({"name": "Desk 2", "parent_id": company.id, "mobile": "603000111"})
        self.assertEqual(first.phone_sanitized, second.phone_sanitized)
        insurer = Partner.create({"name": "Insurer", "is_insurer": True, "mobile": "+48601111222"})
        self.assertTrue(insurer)

    def test_an_import_in_contacts_names_the_duplicate_row(self):
        importer = (
            self.env["base_import.import"]
            .with_user(self.employee)
            .create(
                {
                    "res_model": "res.partner",
                    "file": b"name,mobile,email\n"
                    b"Fine One,602 000 001,\n"
                    b"Ewa Again,+48601111222,\n"
                    b"Fine Two,,fine.two@example.com\n",
                    "file_type": "text/csv",
                }
            )
        )
        with mute_logger("odoo.sql_db"):
            result = importer.execute_import(
                ["name", "mobile", "email"],
                ["name", "mobile", "email"],
                {"has_headers": True, "quoting": '"', "separator": ","},
            )
        errors = [m for m in result["messages"] if m["type"] == "error"]
        self.assertTrue(errors)
        self.assertTrue(
            any("Ewa Nowak already has the mobile number" in m["message"] for m in errors),
            errors,
        )
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Ewa Again")]))

    def test_load_as_a_plain_employee_refuses_the_duplicate(self):
        with mute_logger("odoo.sql_db"):
            result = (
                self.env["res.partner"]
                .with_user(self.employee)
                .load(["name", "email"], [["Ewa Again", "EWA.nowak@example.com"]])
            )
        self.assertFalse(result["ids"])
        self.assertIn("already has the e-mail", result["messages"][0]["message"])

    def test_without_the_setting_the_contacts_form_saves_duplicates(self):
        self.env["ir.config_parameter"].sudo().set_param(PARAM, False)
        form = Form(self.env["res.partner"].with_user(self.employee))
        form.name = "Ewa N."
        form.email = "ewa.nowak@example.com"
        self.assertTrue(form.save())

    def test_the_mail_gateway_creates_the_partner_and_flags_it(self):
        # The client belongs to another agency: the gateway's user cannot see
        # her, so the gateway creates a partner with her address.
        other_company = self.env["res.company"].create({"name": "Other Agency"})
        self.existing.company_id = other_company
        project = self.env["project.project"].create({"name": "Claims"})
        gateway_user = new_test_user(
            self.env, login="gateway_user_dup", groups="base.group_user,project.group_project_user"
        )
        raw = (
            "From: Ewa Nowak <EWA.Nowak@example.com>\r\n"
            "To: claims@example.com\r\n"
            "Subject: My car was hit\r\n"
            "Message-ID: <dup-gateway-1@example.com>\r\n"
            "Content-Type: text/plain\r\n\r\n"
            "Please call me.\r\n"
        )
        self.env["mail.thread"].with_user(gateway_user).message_process(
            "project.task", raw, custom_values={"project_id": project.id}
        )
        task = self.env["project.task"].search([("name", "=", "My car was hit")])
        self.assertEqual(len(task), 1)
        author = task.partner_id
        self.assertNotEqual(author, self.existing)
        self.assertEqual(author.email_normalized, "ewa.nowak@example.com")
        self.assertTrue(author.insurance_duplicate_review)
        self.assertFalse(self.existing.insurance_duplicate_review)
        flagged = self.env["res.partner"].search([("insurance_duplicate_review", "=", True)])
        self.assertIn(author, flagged)

    def test_partners_made_from_email_addresses_are_flagged_not_refused(self):
        self.existing.company_id = self.env["res.company"].create({"name": "Hidden Agency"})
        [partner] = (
            self.env["res.partner"]
            .with_user(self.employee)
            ._find_or_create_from_emails(["Ewa <ewa.nowak@example.com>"])
        )
        self.assertTrue(partner)
        self.assertNotEqual(partner, self.existing)
        self.assertTrue(partner.insurance_duplicate_review)

    def test_a_sudo_creation_is_flagged_not_refused(self):
        # A portal sign-up or a website form runs in sudo.
        visitor = (
            self.env["res.partner"]
            .with_user(self.employee)
            .sudo()
            .create({"name": "Web Visitor", "mobile": "601 111 222", "country_id": self.pl.id})
        )
        self.assertTrue(visitor.insurance_duplicate_review)
        unique = self.env["res.partner"].sudo().create({"name": "New", "mobile": "+48602999888"})
        self.assertFalse(unique.insurance_duplicate_review)


class TestJsonRpc(DuplicateSetup, NotifyHttpCase):
    def call_kw(self, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "res.partner",
                "method": method,
                "args": args,
                "kwargs": kwargs or {},
            },
        )

    def test_json_rpc_as_a_plain_employee_refuses_duplicates(self):
        self.authenticate("plain_employee_dup", "Employee123!")
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions"):
            self.call_kw("create", [{"name": "Ewa RPC", "mobile": "(601) 111-222"}])
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions"):
            self.call_kw("create", [{"name": "Ewa RPC", "email": "EWA.NOWAK@EXAMPLE.COM"}])
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Ewa RPC")]))
        ids = self.call_kw("create", [{"name": "Fresh RPC", "mobile": "602 333 444"}])
        fresh = self.env["res.partner"].browse(ids)
        self.assertEqual(fresh.name, "Fresh RPC")
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions"):
            self.call_kw("write", [fresh.ids, {"email": "ewa.nowak@example.com"}])
        fresh.invalidate_recordset()
        self.assertFalse(fresh.email)
