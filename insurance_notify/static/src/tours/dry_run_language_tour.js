import { registry } from "@web/core/registry";

/**
 * A broker looks at tomorrow's messages: the SMS to a client reads in the
 * client's language, with their date and currency, as the gateway will get it.
 */
function dryRunSteps(client, text, title, currency) {
    return [
        {
            content: "Show what tomorrow sends",
            trigger: "button[name=action_run].btn-primary",
            run: "click",
        },
        {
            content: "The client's SMS in the client's language",
            trigger: `.o_field_widget[name=line_ids] .o_data_row:contains('${client}'):contains('${text}')`,
        },
        {
            content: "Saved, the window says which day it shows",
            trigger: `.o_breadcrumb:contains('${title}')`,
        },
        {
            content: "The cost is in the agency's currency",
            trigger: `.o_field_widget[name=cost]:contains('${currency}')`,
        },
    ];
}

registry.category("web_tour.tours").add("insurance_notify_dry_run_polish", {
    url: "/odoo/action-insurance_notify.action_insurance_notify_dry_run",
    steps: () =>
        dryRunSteps("Katarzyna Wiśniewska", "Przypominamy: polisa TOUR/PL/1", "Symulacja na", "zł"),
});

registry.category("web_tour.tours").add("insurance_notify_dry_run_lithuanian", {
    url: "/odoo/action-insurance_notify.action_insurance_notify_dry_run",
    steps: () =>
        dryRunSteps("Rūta Žemaitienė", "Primename: polisas TOUR/LT/1", "Simuliacija", "€"),
});
