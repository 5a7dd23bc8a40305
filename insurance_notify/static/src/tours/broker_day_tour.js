import { registry } from "@web/core/registry";

/**
 * A Polish broker's day in the browser (issue: nothing lost between draft and
 * valid, the right defaults, previews that open). The Python test drives the
 * tours one after the other and runs the planner between them, as the cron would.
 */
const tours = registry.category("web_tour.tours");

tours.add("insurance_notify_day_new_client", {
    steps: () => [
        {
            content: "Name the new client",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Zofia Kowalczyk",
        },
        {
            content: "Her mobile, typed the Polish way",
            trigger: ".o_field_widget[name=mobile] input",
            run: "edit 602 333 444",
        },
        {
            content: "The form shows her language: Polish, the agency's",
            trigger: ".o_field_widget[name=lang] select",
            run() {
                const value = JSON.parse(this.anchor.value);
                if (value !== "pl_PL") {
                    throw new Error(`The new client's language is ${value}, not pl_PL`);
                }
            },
        },
        {
            content: "Save the client",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_saved",
        },
    ],
});

tours.add("insurance_notify_day_validate", {
    steps: () => [
        {
            content: "The draft policy's reminder was left out this morning",
            trigger: "button[name=action_view_notify_messages]:contains('1')",
        },
        {
            content: "Validate the policy",
            trigger: "button[name=action_validate]",
            run: "click",
        },
        {
            content: "It is valid: it can now be renewed",
            trigger: "button[name=action_renew]",
        },
    ],
});

tours.add("insurance_notify_day_dry_run", {
    steps: () => {
        // The planner's day: the agency's (Warsaw), whatever the browser's zone.
        const today = luxon.DateTime.now().setZone("Europe/Warsaw").toFormat("dd.MM.yyyy");
        return [
            {
                content: "Simulate today",
                trigger: ".o_field_widget[name=day] input",
                run: `edit ${today} && press Enter`,
            },
            {
                content: "Show what today sends",
                trigger: "button[name=action_run].btn-primary",
                run: "click",
            },
            {
                content: "The validated policy's SMS will be sent, in Polish",
                trigger:
                    ".o_field_widget[name=line_ids] .o_data_row:contains('Zofia Kowalczyk'):contains('Przypominamy: polisa DAY/PL/1')",
            },
        ];
    },
});

tours.add("insurance_notify_day_sent_notifications", {
    steps: () => [
        {
            content: "Sent Notifications show her reminder queued",
            trigger: ".o_data_row:contains('Zofia Kowalczyk'):contains('W kolejce')",
        },
    ],
});

tours.add("insurance_notify_day_manager_preview", {
    steps: () => [
        {
            content: "Preview the rule's SMS",
            trigger: "button[name=action_preview_sms]",
            run: "click",
        },
        {
            content: "The preview opens with the SMS rendered in Polish",
            trigger: ".modal .o_field_widget[name=body]:contains('Przypominamy: polisa')",
        },
        {
            content: "Close it",
            trigger: ".modal .o_form_button_cancel, .modal button.btn-close",
            run: "click",
        },
        {
            content: "Closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});

tours.add("insurance_notify_day_test_sms", {
    steps: () => [
        {
            content: "Choose the policy",
            trigger: ".o_field_widget[name=policy_id] input",
            run: "edit DAY/PL/1",
        },
        {
            content: "Pick it",
            trigger: ".o-autocomplete--dropdown-item a:contains('DAY/PL/1')",
            run: "click",
        },
        {
            content: "Send it to the manager's own mobile",
            trigger: ".o_field_widget[name=number] input",
            run: "edit +48 609 111 222",
        },
        {
            content: "Send",
            trigger: "button[name=action_send]",
            run: "click",
        },
        {
            content: "It is on its way",
            trigger: "button[name=action_refresh]",
        },
    ],
});

tours.add("insurance_notify_day_client_history", {
    steps: () => [
        {
            content: "Open the client's notifications",
            trigger: ".o_notebook .nav-link[name=insurance_notifications]",
            run: "click",
        },
        {
            content: "Her history holds her reminder, not the manager's test SMS",
            trigger:
                ".o_field_widget[name=insurance_notify_message_ids]:not(:has(.o_data_row:eq(1))) .o_data_row:contains('W kolejce')",
        },
    ],
});
