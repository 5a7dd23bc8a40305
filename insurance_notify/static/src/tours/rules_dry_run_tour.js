import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("insurance_notify_rules_dry_run", {
    url: "/odoo/action-insurance_notify.action_insurance_notify_rule/new",
    steps: () => [
        {
            content: "Name the rule",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour expiry SMS",
        },
        {
            content: "It reminds of policy ends",
            trigger: ".o_field_widget[name=event_type] select",
            run: "selectByLabel Policy expiry",
        },
        {
            content: "Seven days before",
            trigger: ".o_field_widget[name=offsets] input",
            run: "edit 7",
        },
        {
            content: "Type the template's name",
            trigger: ".o_field_widget[name=sms_template_id] input",
            run: "edit Tour expiry",
        },
        {
            content: "Choose the template",
            trigger: ".o-autocomplete--dropdown-item a:contains('Tour expiry template')",
            run: "click",
        },
        {
            content: "Save the rule",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Open the dry run of this rule",
            trigger: ".o_form_saved .o_statusbar_buttons button:contains('Dry Run')",
            run: "click",
        },
        {
            content: "The dry run is about the new rule",
            trigger: ".o_field_widget[name=rule_ids] .o_tag:contains('Tour expiry SMS')",
        },
        {
            content: "Show what tomorrow sends",
            trigger: "button[name=action_run]:contains('Show What Would Be Sent')",
            run: "click",
        },
        {
            content: "Tomorrow's reminder to the client is listed with its text",
            trigger:
                ".o_field_widget[name=line_ids] .o_data_row:contains('Tour Dry Client'):contains('TOUR/DRY/1'):contains('+48600777888')",
        },
        {
            content: "Totals: one message",
            trigger: ".o_field_widget[name=message_count]:contains('1')",
        },
        {
            content: "Go to the clients",
            trigger: ".o_web_client",
            run() {
                window.location.href = "/odoo/action-insurance_notify.action_insurance_client";
            },
        },
        {
            content: "Look the client up",
            trigger: ".o_searchview_input",
            run: "edit Tour Dry Client",
        },
        {
            content: "Search",
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            content: "Open the client card",
            trigger: ".o_kanban_record:contains('Tour Dry Client')",
            run: "click",
        },
        {
            content: "The smart button counts one notification",
            trigger: "button[name=action_view_insurance_notify_messages] .o_stat_value:contains('1')",
        },
        {
            content: "Open the Notifications tab",
            trigger: ".o_notebook .nav-link:contains('Notifications')",
            run: "click",
        },
        {
            content: "The reminder sent last week is in the history",
            trigger:
                ".o_field_widget[name=insurance_notify_message_ids] .o_data_row:contains('Sent'):contains('TOUR/DRY/1')",
        },
    ],
});
