"""Invoices of a small book: a Polish client, an accountant who is also an
insurance user, and the shipped invoice templates in Polish and Lithuanian."""

from datetime import timedelta

from odoo import Command
from odoo.tests.common import new_test_user

from odoo.addons.insurance_notify.lib.notify_engine.gateways import SandboxGateway
from odoo.addons.insurance_notify.tests.common import NotifyCase


class InvoiceCase(NotifyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        for lang in ("pl_PL", "lt_LT"):
            env["res.lang"]._activate_lang(lang)
        env["ir.module.module"]._load_module_terms(
            ["insurance_notify_account"], ["pl_PL", "lt_LT"], overwrite=True
        )
        cls.company = env.ref("base.main_company")
        cls.client.lang = "pl_PL"
        cls.accountant = new_test_user(
            env,
            login="invoice_broker",
            name="Anna Fakturzystka",
            groups="base.group_user,insurance_notify.group_insurance_user,"
            "account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.due_template = env.ref("insurance_notify_account.sms_template_invoice_due")
        cls.overdue_template = env.ref("insurance_notify_account.sms_template_invoice_overdue")

    def make_invoice(self, due_in=3, amount=1840.0, post=True, user=None, **values):
        """A customer invoice made and posted by the accountant, due in
        ``due_in`` days (unless a payment term decides)."""
        vals = {
            "move_type": "out_invoice",
            "partner_id": self.client.id,
            "invoice_date": self.TODAY - timedelta(days=10),
            "currency_id": self.env.ref("base.PLN").id,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Premium: motor insurance",
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
            **values,
        }
        if "invoice_payment_term_id" not in vals:
            vals["invoice_date_due"] = self.TODAY + timedelta(days=due_in)
        invoice = self.env["account.move"].with_user(user or self.accountant).create(vals)
        if post:
            invoice.action_post()
        return invoice

    def pay(self, invoice, amount=None, user=None):
        """Register a payment the way the accountant does (the Pay button)."""
        wizard = (
            self.env["account.payment.register"]
            .with_user(user or self.accountant)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"payment_date": self.TODAY, **({"amount": amount} if amount else {})})
        )
        wizard.action_create_payments()

    def due_lines(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.display_type == "payment_term").sorted(
            "date_maturity"
        )

    def invoice_rule(self, event_type="invoice_due", offsets="3", **values):
        """A rule about the accountant's invoices only (the demo invoices of the
        database, whatever their dates, stay out of the tests)."""
        template = self.due_template if event_type == "invoice_due" else self.overdue_template
        if not {"user_ids", "insurer_ids"} & values.keys():
            values["user_ids"] = [Command.set(self.accountant.ids)]
        return self.make_rule(
            offsets,
            name=f"{event_type} {offsets}",
            event_type=event_type,
            sms_template_id=template.id,
            **values,
        )

    def outbox_to(self, number="+48600123456"):
        return [sms.body for sms in SandboxGateway.outbox if sms.number == number]
