import { registry } from "@web/core/registry";
import { pick } from "@insurance_notify/tours/tour_helpers";

registry.category("web_tour.tours").add("insurance_notify_client_card", {
    url: "/odoo/action-insurance_notify.action_insurance_client/new",
    steps: () => [
        {
            content: "Name the new client",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour Lietuvis",
        },
        ...pick("country_id", "Lithuania"),
        {
            content: "Type the mobile the old Lithuanian way",
            trigger: ".o_field_widget[name=mobile] input",
            run: "edit 8-699 11223",
        },
        {
            content: "Open the consents",
            trigger: ".o_notebook .nav-link:contains('Consents')",
            run: "click",
        },
        {
            content: "The client agrees to SMS",
            trigger: ".o_field_widget[name=consent_sms] input",
            run: "check",
        },
        {
            content: "Save the client",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The consent is in the history",
            trigger: ".o_field_widget[name=consent_log_ids] .o_data_row:contains('SMS'):contains('Given')",
        },
        {
            content: "Open the client's policies",
            trigger: "button[name=action_view_insurance_policies]",
            run: "click",
        },
        {
            content: "Add a policy",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Policy number",
            trigger: ".o_field_widget[name=name] input",
            run: "edit TOUR/LT/0001",
        },
        ...pick("insurer_id", "PZU SA"),
        ...pick("product_id", "Motor liability"),
        {
            content: "Premium",
            trigger: ".o_field_widget[name=premium_amount] input",
            run: "edit 600",
        },
        {
            content: "Two installments",
            trigger: ".o_field_widget[name=installment_count] select",
            // After the hidden empty option come 1, 2, 4 and 12.
            run: "selectByIndex 2",
        },
        {
            content: "Generate them",
            trigger: "button[name=action_generate_installments]",
            run: "click",
        },
        {
            content: "The policy has two installments",
            trigger:
                ".o_field_widget[name=installment_ids]:not(:has(.o_data_row:eq(2))) .o_data_row:eq(1)",
        },
        {
            content: "Back to the client card",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Tour Lietuvis')",
            run: "click",
        },
        {
            content: "The smart button counts the two open installments",
            trigger:
                "button[name=action_view_insurance_installments] .o_stat_value:contains('2'):not(:contains('12'))",
        },
        {
            content: "Open the Insurance tab",
            trigger: ".o_notebook .nav-link:contains('Insurance')",
            run: "click",
        },
        {
            content: "The policy is on the card",
            trigger: ".o_field_widget[name=insurance_policy_ids] .o_data_row:contains('TOUR/LT/0001')",
        },
        {
            content: "Both installments are on the card",
            trigger:
                ".o_field_widget[name=insurance_installment_ids]:not(:has(.o_data_row:eq(2))) .o_data_row:eq(1)",
        },
    ],
});
