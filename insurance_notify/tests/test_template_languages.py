"""Every template the add-on ships, as a Polish, a Lithuanian and an English
client receives it: their language, their date and currency formats, one SMS
part after transliteration."""

import re
from datetime import date, datetime

from odoo.tests.common import new_test_user

from ..lib.notify_engine import sms
from .common import NotifyCase

SMS_TEMPLATES = [
    "sms_template_policy_expiry",
    "sms_template_installment_due",
    "sms_template_installment_overdue",
    "sms_template_inspection_expiry",
    "sms_template_consent_renewal",
    "sms_template_birthday",
    "sms_template_task_customer",
    "sms_template_task_operator",
]
MAIL_TEMPLATES = [
    "mail_template_policy_expiry",
    "mail_template_installment_due",
    "mail_template_installment_overdue",
    "mail_template_inspection_expiry",
    "mail_template_consent_renewal",
    "mail_template_birthday",
    "mail_template_task_customer",
    "mail_template_task_operator",
]
DAY = date(2027, 9, 13)
# What each client reads: a word of their language (after transliteration)
# per template, the date and the amount as their country writes them.
CLIENTS = {
    "pl_PL": {
        "date": "13.09.2027",
        "amount": "1312,50 zl",
        "words": {
            "policy_expiry": "polis",
            "installment_due": "rat",
            "installment_overdue": "rat",
            "inspection_expiry": "przeglad",
            "consent_renewal": "zgod",
            "birthday": "urodzin",
            "task_customer": "przypomnienie",
            "task_operator": "zadanie",
        },
    },
    "lt_LT": {
        "date": "2027-09-13",
        "amount": "1.312,50 €",
        "words": {
            "policy_expiry": "polis",
            "installment_due": "imok",
            "installment_overdue": "imok",
            "inspection_expiry": "apziur",
            "consent_renewal": "sutikim",
            "birthday": "gimtadien",
            "task_customer": "priminimas",
            "task_operator": "uzduotis",
        },
    },
    "en_US": {
        "date": "09/13/2027",
        "amount": "$ 1,312.50",
        "words": {
            "policy_expiry": "policy",
            "installment_due": "installment",
            "installment_overdue": "installment",
            "inspection_expiry": "inspection",
            "consent_renewal": "consent",
            "birthday": "birthday",
            "task_customer": "reminder",
            "task_operator": "task",
        },
    },
}
CURRENCIES = {"pl_PL": "base.PLN", "lt_LT": "base.EUR", "en_US": "base.USD"}
COUNTRIES = {"pl_PL": "base.pl", "lt_LT": "base.lt", "en_US": "base.us"}
NAMES = {
    "pl_PL": ("Katarzyna Wiśniewska", "Skoda Octavia", "WX 12345", "Małgorzata Żółkiewska"),
    "lt_LT": ("Rūta Žemaitienė", "Volkswagen Golf", "KLM 123", "Žydrūnas Šimkūnas"),
    "en_US": ("John Smith", "Ford Focus", "7ABC123", "Mary Johnson"),
}


class TestTemplateLanguages(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("pl_PL", "lt_LT"):
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"]._load_module_terms(
            ["insurance_notify"], ["pl_PL", "lt_LT"], overwrite=True
        )
        for xmlid in CURRENCIES.values():
            cls.env.ref(xmlid).active = True
        # Some company languages would hide a template that forgets the
        # client's: the agency works in English here.
        cls.env.company.partner_id.lang = "en_US"
        cls.env.company.phone = "+48 22 123 45 67"
        cls.product.name = "Ubezpieczenie OC/AC pojazdu"
        cls.books = {}
        for lang, (name, model, plate, broker_name) in NAMES.items():
            broker = new_test_user(
                cls.env,
                login=f"broker_{lang}",
                name=broker_name,
                groups="insurance_notify.group_insurance_user,project.group_project_user",
                lang=lang,
            )
            broker.mobile = "+48 600 123 456" if lang != "lt_LT" else "+370 612 34567"
            client = cls.env["res.partner"].create(
                {
                    "name": name,
                    "lang": lang,
                    "country_id": cls.env.ref(COUNTRIES[lang]).id,
                    "tz": "Europe/Warsaw" if lang != "lt_LT" else "Europe/Vilnius",
                    "mobile": "+48 601 234 567" if lang != "lt_LT" else "+370 698 76543",
                    "email": f"client.{lang}@example.com",
                    "consent_valid_until": DAY,
                    "birthdate": date(1980, 9, 13),
                }
            )
            policy = cls.env["insurance.policy"].create(
                {
                    "name": f"PK/2026/00012{len(cls.books)}",
                    "partner_id": client.id,
                    "insurer_id": cls.insurer.id,
                    "product_id": cls.product.id,
                    "subject": f"{model} {plate}",
                    "vehicle_model": model,
                    "vehicle_plate": plate,
                    "date_start": date(2026, 9, 14),
                    "date_end": DAY,
                    "inspection_date": DAY,
                    "currency_id": cls.env.ref(CURRENCIES[lang]).id,
                    "premium_amount": 5250.0,
                    "user_id": broker.id,
                    "state": "valid",
                }
            )
            installment = cls.env["insurance.policy.installment"].create(
                {"policy_id": policy.id, "date_due": DAY, "amount": 1312.5}
            )
            task = cls.env["project.task"].create(
                {
                    "name": "Podpisanie polisy" if lang == "pl_PL" else "Policy signing",
                    "partner_id": client.id,
                    "user_ids": broker.ids,
                    "date_deadline": datetime(2027, 9, 13, 10, 0),
                }
            )
            cls.books[lang] = {
                "broker": broker,
                "insurance.policy": policy,
                "insurance.policy.installment": installment,
                "res.partner": client,
                "project.task": task,
            }

    def render(self, lang, xmlid, field):
        """What the client of ``lang`` receives, rendered as their broker would
        see it in the dry run: in the client's language whoever renders."""
        book = self.books[lang]
        template = self.env.ref(f"insurance_notify.{xmlid}")
        record = book[template.model_id.model]
        template = template.with_user(book["broker"]).with_context(lang="en_US")
        text = template._render_field(field, record.ids, compute_lang=True)[record.id]
        return text, template

    def assert_reads(self, lang, event, text, amount=True):
        expected = CLIENTS[lang]
        self.assertIn(expected["words"][event], text.lower(), f"{lang} {event}: {text}")
        if re.search(r"\d{4}", text) and event not in ("birthday", "task_operator"):
            self.assertIn(expected["date"], text, f"{lang} {event}: {text}")
        if amount and event.startswith("installment"):
            self.assertIn(expected["amount"], text, f"{lang} {event}: {text}")
        self.assertNotIn("{", text)

    def test_every_sms_reads_in_the_clients_language_and_fits_one_part(self):
        for lang in CLIENTS:
            for xmlid in SMS_TEMPLATES:
                event = xmlid.removeprefix("sms_template_")
                with self.subTest(lang=lang, template=event):
                    body, template = self.render(lang, xmlid, "body")
                    self.assertTrue(template.sms_transliterate)
                    analysis = sms.analyze(body, transliterate=True)
                    self.assert_reads(lang, event, analysis.text)
                    self.assertEqual(analysis.encoding, "GSM-7", analysis.text)
                    self.assertEqual(analysis.parts, 1, f"{analysis.units}: {analysis.text}")

    def test_every_email_subject_reads_in_the_clients_language(self):
        for lang in CLIENTS:
            for xmlid in MAIL_TEMPLATES:
                event = xmlid.removeprefix("mail_template_")
                with self.subTest(lang=lang, template=event):
                    subject, _template = self.render(lang, xmlid, "subject")
                    self.assert_reads(lang, event, sms.transliterate(subject), amount=False)

    def test_dates_and_amounts_follow_the_clients_language(self):
        body, _template = self.render("pl_PL", "sms_template_installment_due", "body")
        self.assertIn("13.09.2027", body)
        self.assertIn("1312,50\N{NO-BREAK SPACE}zł", body)
        body, _template = self.render("lt_LT", "sms_template_policy_expiry", "body")
        self.assertIn("2027-09-13", body)
        self.assertIn("baigia galioti", body)

    def test_a_client_without_a_language_reads_the_agencys(self):
        client = self.books["pl_PL"]["res.partner"]
        client.lang = False
        self.env.company.partner_id.lang = "pl_PL"
        body, _template = self.render("pl_PL", "sms_template_policy_expiry", "body")
        self.assertIn("Przypominamy", body)

    def test_a_policy_without_a_broker_gives_the_agencys_phone(self):
        policy = self.books["pl_PL"]["insurance.policy"]
        policy.user_id = self.env.ref("base.user_root")
        body, _template = self.render("pl_PL", "sms_template_policy_expiry", "body")
        self.assertTrue(body.endswith(f"{self.env.company.name}, +48 22 123 45 67."), body)

    def test_the_daily_report_reads_in_its_readers_language(self):
        rule = self.make_rule("7", report_user_ids=self.books["pl_PL"]["broker"].ids)
        broker = self.books["pl_PL"]["broker"]
        broker.email = "broker@agency.example"
        mail = rule._report_mail(broker, DAY, {"counts": {}, "skipped": {}, "problems": {}})
        self.assertIn("13.09.2027", mail.subject)
        self.assertNotIn("report", mail.subject.lower())

    def test_the_dry_run_shows_the_clients_language_whoever_looks(self):
        self.env["res.lang"]._activate_lang("lt_LT")
        viewer = self.books["lt_LT"]["broker"]  # a Lithuanian-speaking manager
        viewer.groups_id |= self.env.ref("insurance_notify.group_insurance_manager")
        rule = self.make_rule(
            "7",
            sms_template_id=self.env.ref("insurance_notify.sms_template_policy_expiry").id,
            insurer_ids=self.insurer.ids,
        )
        wizard = (
            self.env["insurance.notify.dry.run"]
            .with_user(viewer)
            .create({"day": date(2027, 9, 6), "rule_ids": rule.ids})
        )
        wizard.action_run()
        policy = self.books["pl_PL"]["insurance.policy"]
        line = wizard.line_ids.filtered(lambda line: line.record_ref == policy)
        self.assertTrue(line.text.startswith("Przypominamy: polisa"), line.text)
        self.assertIn("13.09.2027", line.text)
        # The same date in the same run, formatted once per language: each
        # client still reads it as their country writes it.
        for lang, written in (("lt_LT", "2027-09-13"), ("en_US", "09/13/2027")):
            policy = self.books[lang]["insurance.policy"]
            line = wizard.line_ids.filtered(lambda line, policy=policy: line.record_ref == policy)
            self.assertIn(written, line.text, lang)
            self.assertNotIn("13.09.2027", line.text, lang)
        self.assertEqual(wizard.with_context(lang="lt_LT").display_name, "Simuliacija 2027-09-06")
