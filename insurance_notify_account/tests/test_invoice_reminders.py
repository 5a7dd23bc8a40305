"""Invoice reminders: due and overdue, per due date, cancelled when settled."""

from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests.common import new_test_user

from odoo.addons.insurance_notify.lib.notify_engine.gateways import SandboxGateway
from odoo.addons.insurance_notify.tests.common import warsaw

from .common import InvoiceCase


class TestInvoiceDue(InvoiceCase):
    def test_a_polish_client_gets_a_polish_sms_three_days_before_the_due_date(self):
        invoice = self.make_invoice(due_in=3)
        self.invoice_rule("invoice_due", "3")
        self.run_crons()
        line = self.due_lines(invoice)
        message = self.messages_of(line)
        self.assertRecordValues(
            message,
            [{"state": "sent", "offset": 3, "event_date": self.TODAY + timedelta(days=3)}],
        )
        self.assertEqual(message.partner_id, self.client)
        self.assertEqual(
            self.outbox_to(),
            [
                f"{self.company.name}: faktura {invoice.name}, 1840,00 zl do zaplaty do "
                f"26.11.2026. Tytul przelewu: {invoice.name}. Dziekujemy!"
            ],
        )
        self.assertEqual(message.sms_parts, 1)
        # The chatter line is on the invoice; the client card counts it.
        self.assertIn("1840,00 zl", invoice.message_ids[0].body)
        self.assertIn(message, self.client.insurance_notify_message_ids)

    def test_a_paid_invoice_gets_nothing(self):
        invoice = self.make_invoice(due_in=3)
        self.pay(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.invoice_rule("invoice_due", "3")
        self.run_crons()
        self.assertFalse(self.messages_of(self.due_lines(invoice)))
        self.assertFalse(self.outbox_to())

    def test_a_partly_paid_invoice_is_reminded_of_what_is_left(self):
        invoice = self.make_invoice(due_in=3)
        self.pay(invoice, amount=840)
        self.assertEqual(invoice.payment_state, "partial")
        line = self.due_lines(invoice).with_context(lang="pl_PL")
        self.assertEqual(line.notify_amount_paid, "840,00\N{NO-BREAK SPACE}zł")
        self.assertEqual(line.notify_amount_total, "1840,00\N{NO-BREAK SPACE}zł")
        self.assertEqual(line.notify_last_payment_date, self.TODAY.strftime("%d.%m.%Y"))
        self.invoice_rule("invoice_due", "3")
        self.run_crons()
        [body] = self.outbox_to()
        self.assertIn("1000,00 zl do zaplaty do 26.11.2026", body)

    def test_credit_notes_drafts_and_cancelled_invoices_get_nothing(self):
        credit_note = self.make_invoice(due_in=3, move_type="out_refund")
        draft = self.make_invoice(due_in=3, post=False)
        cancelled = self.make_invoice(due_in=3)
        cancelled.button_draft()
        cancelled.button_cancel()
        self.invoice_rule("invoice_due", "3")
        self.run_crons()
        for invoice in (credit_note, draft, cancelled):
            self.assertFalse(self.messages_of(invoice.line_ids), invoice.move_type)
        self.assertFalse(SandboxGateway.outbox)

    def test_two_due_dates_give_two_reminders_with_their_own_amounts(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "Two installments",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 13}),
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 43}),
                ],
            }
        )
        invoice = self.make_invoice(invoice_payment_term_id=term.id)
        first, second = self.due_lines(invoice)
        self.assertEqual(first.date_maturity, self.TODAY + timedelta(days=3))
        self.assertEqual(second.date_maturity, self.TODAY + timedelta(days=33))
        # Both due dates have a reminder due today: one each, not one per invoice.
        self.invoice_rule("invoice_due", "3,33")
        self.run_crons()
        self.assertEqual(self.messages_of(first).offset, 3)
        self.assertEqual(self.messages_of(second).offset, 33)
        # Both leave at the same moment to one client: one SMS naming both.
        [text] = self.outbox_to()
        self.assertEqual(text.count("920,00 zl do zaplaty do "), 2, text)
        self.assertIn("do zaplaty do 26.11.2026", text)
        self.assertIn("do zaplaty do 26.12.2026", text)

    def test_a_lithuanian_client_reads_lithuanian(self):
        self.client.lang = "lt_LT"
        invoice = self.make_invoice(due_in=3)
        self.invoice_rule("invoice_due", "3")
        self.run_crons()
        self.assertEqual(
            self.outbox_to(),
            [
                f"{self.company.name}: saskaita {invoice.name}, 1.840,00 zl apmoketi iki "
                f"2026-11-26. Mokejimo paskirtis: {invoice.name}. Aciu!"
            ],
        )


class TestInvoiceOverdue(InvoiceCase):
    def test_overdue_offsets_count_days_after_the_due_date(self):
        overdue = self.make_invoice(due_in=-3)
        not_yet = self.make_invoice(due_in=3)
        paid_late = self.make_invoice(due_in=-3)
        self.pay(paid_late)
        self.invoice_rule("invoice_overdue", "3,10")
        self.run_crons()
        self.assertEqual(self.messages_of(self.due_lines(overdue)).offset, 3)
        self.assertFalse(self.messages_of(self.due_lines(not_yet | paid_late)))
        self.assertEqual(
            self.outbox_to(),
            [
                f"{self.company.name}: termin platnosci faktury {overdue.name} minal "
                "20.11.2026. Pozostalo do zaplaty 1840,00 zl. Prosimy o wplate."
            ],
        )
        self.set_now(warsaw(self.TODAY + timedelta(days=7), 10))
        self.run_crons()
        self.assertEqual(
            sorted(self.messages_of(self.due_lines(overdue)).mapped("offset")), [3, 10]
        )


class TestCancelledWhenSettled(InvoiceCase):
    def queued_reminder(self, invoice, offsets="3"):
        # After the sending hours: the reminder waits for tomorrow morning.
        self.set_now(warsaw(self.TODAY, 22))
        self.invoice_rule("invoice_due", offsets)
        message = self.messages_of(self.due_lines(invoice))
        self.assertEqual(set(message.mapped("state")), {"queued"})
        return message

    def test_a_payment_cancels_the_queued_reminder(self):
        invoice = self.make_invoice(due_in=3)
        message = self.queued_reminder(invoice)
        self.pay(invoice)
        self.assertRecordValues(
            message,
            [{"state": "cancelled", "reason_code": "invoice_paid", "reason": "invoice paid"}],
        )
        self.set_now(warsaw(self.TODAY + timedelta(days=1), 10))
        self.Message._cron_dispatch()
        self.assertFalse(SandboxGateway.outbox)

    def test_a_partial_payment_keeps_the_reminder_of_what_is_left(self):
        invoice = self.make_invoice(due_in=3)
        message = self.queued_reminder(invoice)
        self.pay(invoice, amount=840)
        self.assertEqual(message.state, "queued")

    def test_paying_the_first_installment_cancels_only_its_reminder(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "Two installments",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 13}),
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 43}),
                ],
            }
        )
        invoice = self.make_invoice(invoice_payment_term_id=term.id)
        first, second = self.due_lines(invoice)
        self.queued_reminder(invoice, offsets="3,33")
        self.pay(invoice, amount=920)
        self.assertEqual(self.messages_of(first).state, "cancelled")
        self.assertEqual(self.messages_of(second).state, "queued")

    def test_cancelling_or_resetting_the_invoice_cancels_its_reminder(self):
        invoice = self.make_invoice(due_in=3)
        message = self.queued_reminder(invoice)
        invoice.with_user(self.accountant).button_draft()
        self.assertRecordValues(message, [{"state": "cancelled", "reason_code": "invoice_draft"}])

    def test_a_reversal_cancels_its_reminder(self):
        invoice = self.make_invoice(due_in=3)
        message = self.queued_reminder(invoice)
        reversal = (
            self.env["account.move.reversal"]
            .with_user(self.accountant)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Policy cancelled"})
        )
        reversal.refund_moves()
        # The credit note is a draft: once posted, it settles the invoice.
        reversal.new_move_ids.action_post()
        self.assertEqual(invoice.payment_state, "reversed")
        self.assertRecordValues(
            message, [{"state": "cancelled", "reason_code": "invoice_reversed"}]
        )


class TestSendNowAndFilters(InvoiceCase):
    def test_send_now_sends_the_due_or_overdue_reminder(self):
        self.invoice_rule("invoice_due", "3")
        self.invoice_rule("invoice_overdue", "3")
        due = self.make_invoice(due_in=5)
        overdue = self.make_invoice(due_in=-1)
        action = due.with_user(self.accountant).action_insurance_send_reminder()
        self.assertEqual(action["params"]["type"], "success")
        overdue.with_user(self.accountant).action_insurance_send_reminder()
        self.assertEqual(self.messages_of(self.due_lines(due)).rule_id.event_type, "invoice_due")
        self.assertEqual(
            self.messages_of(self.due_lines(overdue)).rule_id.event_type, "invoice_overdue"
        )
        # Send now queues; the dispatcher sends both as one SMS to the client.
        self.Message._cron_dispatch()
        [text] = self.outbox_to()
        self.assertIn(due.name, text)
        self.assertIn(overdue.name, text)
        self.assertEqual(due.with_user(self.accountant).notify_message_count, 1)

    def test_send_now_checks_rights_and_state(self):
        self.invoice_rule("invoice_due", "3")
        invoice = self.make_invoice(due_in=3)
        billing_only = new_test_user(
            self.env, login="billing_only", groups="base.group_user,account.group_account_invoice"
        )
        with self.assertRaises(UserError):
            invoice.with_user(billing_only).action_insurance_send_reminder()
        other_company = self.env["res.company"].create({"name": "Other agency"})
        outsider = new_test_user(
            self.env,
            login="other_agency",
            groups="base.group_user,insurance_notify.group_insurance_user,"
            "account.group_account_invoice",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        with self.assertRaises(AccessError):
            invoice.with_user(outsider).action_insurance_send_reminder()
        portal = new_test_user(self.env, login="portal_client", groups="base.group_portal")
        with self.assertRaises(AccessError):
            invoice.with_user(portal).action_insurance_send_reminder()
        self.pay(invoice)
        with self.assertRaises(UserError):
            invoice.with_user(self.accountant).action_insurance_send_reminder()
        self.assertFalse(SandboxGateway.outbox)

    def test_rules_filter_by_salesperson_insurer_and_product(self):
        policy = self.make_policy(200)
        linked = self.make_invoice(due_in=3, policy_id=policy.id)
        unlinked = self.make_invoice(due_in=3)
        other_insurer = self.env["res.partner"].create({"name": "Other", "is_insurer": True})
        self.invoice_rule("invoice_due", "3", insurer_ids=[Command.set(other_insurer.ids)])
        self.invoice_rule(
            "invoice_due", "3", user_ids=[Command.set(self.env.ref("base.user_admin").ids)]
        )
        self.assertFalse(self.messages_of(self.due_lines(linked | unlinked)))
        self.invoice_rule("invoice_due", "3", insurer_ids=[Command.set(self.insurer.ids)])
        self.assertTrue(self.messages_of(self.due_lines(linked)))
        self.assertFalse(self.messages_of(self.due_lines(unlinked)))
        self.invoice_rule(
            "invoice_due",
            "3",
            user_ids=[Command.set(self.accountant.ids)],
            product_ids=[Command.set(self.product.ids)],
        )
        self.assertEqual(len(self.messages_of(self.due_lines(linked))), 2)
        self.assertEqual(self.messages_of(self.due_lines(linked)).policy_id, policy)

    def test_bulk_send_to_unpaid_invoices(self):
        invoice = self.make_invoice(due_in=10)
        self.make_invoice(due_in=40)  # outside the dates
        paid = self.make_invoice(due_in=12)
        self.pay(paid)
        batch = self.env["insurance.notify.batch"].create(
            {
                "name": "Unpaid this month",
                "kind": "bulk",
                "target": "invoice_due",
                "channel": "sms",
                "sms_template_id": self.due_template.id,
                "date_to": self.TODAY + timedelta(days=30),
                "user_ids": [Command.set(self.accountant.ids)],
            }
        )
        self.assertEqual(batch.consent_mode, "none", "a payment reminder is a service message")
        self.assertFalse(batch.opt_out_line)
        self.assertEqual(batch.recipient_count, 1)
        self.assertIn("do zaplaty do 03.12.2026", batch.preview.replace("ł", "l"))
        batch.action_start()
        self.assertEqual(
            batch.notify_message_ids.res_id, self.due_lines(invoice).id, "one message, its line"
        )


class TestDryRunAndPicker(InvoiceCase):
    def test_the_dry_run_shows_tomorrows_polish_invoice_reminder(self):
        rule = self.invoice_rule("invoice_due", "3")
        tomorrow = self.make_invoice(due_in=4)
        wizard = self.env["insurance.notify.dry.run"].with_user(self.accountant).create({})
        wizard.action_run()
        line = wizard.line_ids.filtered(lambda line: line.rule_id == rule)
        self.assertEqual(line.record_ref, self.due_lines(tomorrow))
        self.assertEqual(
            line.text,
            # As sent: transliterated, so one GSM-7 part.
            f"{self.company.name}: faktura {tomorrow.name}, 1840,00 zl do zaplaty do "
            f"27.11.2026. Tytul przelewu: {tomorrow.name}. Dziekujemy!",
        )
        self.assertEqual(line.sms_parts, 1)

    def test_the_placeholders_are_offered_by_the_field_picker(self):
        # The template editor's picker lists searchable fields only.
        fields_info = (
            self.env["account.move.line"]
            .with_user(self.accountant)
            .fields_get(attributes=["string", "searchable"])
        )
        for name in (
            "notify_currency",
            "notify_invoice_ref",
            "notify_invoice_date",
            "notify_due_date",
            "notify_last_payment_date",
            "notify_invoice_number",
            "notify_amount_total",
            "notify_amount_paid",
            "notify_amount_due",
        ):
            self.assertTrue(fields_info[name]["searchable"], name)
        invoice = self.make_invoice(due_in=3)
        line = self.due_lines(invoice)
        self.assertEqual(
            line.search([("notify_invoice_number", "=", invoice.name), ("id", "=", line.id)]),
            line,
        )

    def test_an_invoice_bills_a_policy_of_its_own_company_only(self):
        other_company = self.env["res.company"].create({"name": "Other agency"})
        foreign_policy = self.make_policy(200, company_id=other_company.id)
        with self.assertRaises(UserError):
            self.make_invoice(due_in=3, policy_id=foreign_policy.id, user=self.env.user)
