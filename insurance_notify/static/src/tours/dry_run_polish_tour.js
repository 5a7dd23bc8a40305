import { registry } from "@web/core/registry";

/**
 * A Polish broker looks at tomorrow's messages: the SMS to a Polish client
 * reads in Polish, with a Polish date and price, as the gateway will get it.
 */
registry.category("web_tour.tours").add("insurance_notify_dry_run_polish", {
    url: "/odoo/action-insurance_notify.action_insurance_notify_dry_run",
    steps: () => [
        {
            content: "Show what tomorrow sends",
            trigger: "button[name=action_run].btn-primary",
            run: "click",
        },
        {
            content: "The client's SMS in Polish, with a Polish date",
            trigger:
                ".o_field_widget[name=line_ids] .o_data_row:contains('Katarzyna Wiśniewska'):contains('Przypominamy: polisa TOUR/PL/1'):contains('wygasa')",
        },
        {
            content: "Saved, the window says which day it shows",
            trigger: ".o_breadcrumb:contains('Symulacja na')",
        },
        {
            content: "The cost is in złoty",
            trigger: ".o_field_widget[name=cost]:contains('zł')",
        },
    ],
});
