import { registry } from "@web/core/registry";

// What the server formats (format_amount / format_date) on a policy, and what
// a client's text never needs.
const FORMATTED = ["premium_amount", "date_end", "date_start"];
const TECHNICAL = ["id", "create_uid", "write_date", "activity_ids", "activity_state", "message_ids"];

function pickerNames() {
    return [...document.querySelectorAll(".o_model_field_selector_popover_item")].map(
        (item) => item.dataset.name
    );
}

registry.category("web_tour.tours").add("insurance_notify_template_picker", {
    steps: () => [
        {
            content: "The agency's SMS template is open for editing, in Polish",
            trigger: ".o_form_editable .o_field_widget[name=body] textarea",
            run() {
                // The cursor at the end of the text, where a broker adds a field.
                const textarea = document.querySelector(".o_field_widget[name=body] textarea");
                textarea.focus();
                textarea.setSelectionRange(textarea.value.length, textarea.value.length);
            },
        },
        {
            content: "Open the field picker (the magic wand)",
            trigger: ".o_field_widget[name=body] button.fa-magic",
            run: "click",
        },
        {
            content: "The picker lists the policy's fields, in Polish",
            trigger:
                ".o_model_field_selector_popover_item[data-name=premium_amount]:contains('Składka')",
        },
        {
            content: "Amounts and dates come first; no ID, activity or message fields",
            trigger: ".o_model_field_selector_popover_item[data-name=date_end]:contains('Koniec')",
            run() {
                const names = pickerNames();
                const firstPlain = names.findIndex(
                    (name) => !FORMATTED.includes(name) && name !== "inspection_date"
                );
                for (const name of FORMATTED) {
                    const index = names.indexOf(name);
                    if (index < 0 || (firstPlain >= 0 && index > firstPlain)) {
                        throw new Error(`${name} is not among the first fields: ${names.join(", ")}`);
                    }
                }
                if (!names.includes("name")) {
                    throw new Error(`the policy number is missing: ${names.join(", ")}`);
                }
                const technical = names.filter(
                    (name) =>
                        TECHNICAL.includes(name) ||
                        name.includes("activity_") ||
                        name.startsWith("message_")
                );
                if (technical.length) {
                    throw new Error(`technical fields offered: ${technical.join(", ")}`);
                }
            },
        },
        {
            content: "Pick the premium",
            trigger:
                ".o_model_field_selector_popover_item[data-name=premium_amount] .o_model_field_selector_popover_item_name",
            run: "click",
        },
        {
            content: "Insert it",
            trigger: ".o_model_field_selector_popover button.btn-primary:contains('Wstaw')",
            run: "click",
        },
        {
            content: "The raw field is in the text",
            trigger: ".o_field_widget[name=body] textarea:value(object.premium_amount)",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_saved",
        },
        {
            content: "The saved body holds the formatted amount, not the raw value",
            trigger: ".o_field_widget[name=body] textarea:value(format_amount)",
            run() {
                const { value } = document.querySelector(".o_field_widget[name=body] textarea");
                const expected = "{{ format_amount(object.premium_amount, object.currency_id) }}";
                if (!value.endsWith(`składka ${expected}`)) {
                    throw new Error(`The body reads: ${value}`);
                }
            },
        },
    ],
});
