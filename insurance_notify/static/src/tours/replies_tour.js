import { registry } from "@web/core/registry";

// A broker (the demo's anna, in Polish) answers a client's reply by SMS.
registry.category("web_tour.tours").add("insurance_notify_replies", {
    steps: () => [
        {
            content: "The client's words are on the reply",
            trigger: ".o_field_widget[name=text]:contains('Tak, proszę o ofertę')",
        },
        {
            content: "Reply by SMS",
            trigger: "button[name=action_reply_by_sms].btn-primary",
            run: "click",
        },
        {
            content: "The composer shows the thread with the client",
            trigger: ".modal .o_field_widget[name=thread]:contains('Tak, proszę o ofertę')",
        },
        {
            content: "Type the answer",
            trigger: ".modal .o_field_widget[name=body] textarea",
            run: "edit Dzień dobry, przygotujemy ofertę odnowienia.",
        },
        {
            content: "Leave the text (Tab): the counter follows it",
            trigger: ".modal .o_field_widget[name=body] textarea",
            run: "press Tab",
        },
        {
            content: "The counter counts one UCS-2 part",
            trigger: ".modal .o_field_widget[name=sms_encoding]:contains('UCS-2')",
        },
        {
            content: "Send it",
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "The reply is answered: its main button is gone",
            trigger:
                "body:not(:has(.modal)) .o_action_manager .o_form_view:not(:has(button[name=action_reply_by_sms].btn-primary))",
        },
    ],
});
