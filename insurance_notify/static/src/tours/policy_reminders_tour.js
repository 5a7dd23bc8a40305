import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("insurance_notify_policy_reminders", {
    url: "/odoo/action-insurance_notify.action_insurance_policy",
    steps: () => [
        {
            content: "Open the policy that ends in seven days",
            trigger: ".o_data_row td:contains('TOUR/OC/0007')",
            run: "click",
        },
        {
            content: "The smart button counts its reminders",
            trigger: "button.oe_stat_button:contains('Reminders'):contains('1')",
        },
        {
            content: "Open the Reminders tab",
            trigger: ".o_notebook .nav-link:contains('Reminders')",
            run: "click",
        },
        {
            content: "The reminder was sent to the client's mobile",
            trigger:
                ".o_field_widget[name=notify_message_ids] .o_data_row:contains('Sent'):contains('Tour Client')",
        },
    ],
});
