import { registry } from "@web/core/registry";

// A payment registered on a reminded invoice cancels its queued reminder.
registry.category("web_tour.tours").add("insurance_notify_account_invoice_payment", {
    steps: () => [
        {
            content: "The invoice has a reminder queued for its due date",
            trigger: "button.oe_stat_button:contains('Reminders'):contains('1')",
        },
        {
            content: "Register a payment",
            trigger: "button#account_invoice_payment_btn",
            run: "click",
        },
        {
            content: "Create it",
            trigger: ".modal button[name=action_create_payments]",
            run: "click",
        },
        {
            content: "The invoice is settled",
            trigger: "body:not(:has(.modal)) .o_form_view:not(:has(#account_invoice_payment_btn))",
        },
        {
            content: "Open the invoice's reminders",
            trigger: "button.oe_stat_button:contains('Reminders')",
            run: "click",
        },
        {
            content: "The reminder is cancelled: the invoice is paid",
            trigger: ".o_data_row:contains('Cancelled'):contains('Tour Invoice Client')",
        },
    ],
});
