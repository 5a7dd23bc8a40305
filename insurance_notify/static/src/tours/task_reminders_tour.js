import { formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { pick } from "@insurance_notify/tours/tour_helpers";

const { DateTime } = luxon;

registry.category("web_tour.tours").add("insurance_notify_task_reminders", {
    url: "/odoo/action-project.action_view_all_task/new",
    steps: () => {
        const tomorrowAtTen = DateTime.now()
            .plus({ days: 1 })
            .set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
        return [
            {
                content: "Name the task",
                trigger: ".o_field_widget[name=name] textarea",
                run: "edit Tour claim inspection",
            },
            ...pick("project_id", "Tour Project"),
            ...pick("user_ids", "Tour Operator"),
            ...pick("partner_id", "Tour Customer"),
            {
                content: "The deadline is tomorrow at 10:00",
                trigger: ".o_field_widget[name=date_deadline] input",
                run: `edit ${formatDateTime(tomorrowAtTen)}`,
            },
            {
                content: "Open the Reminders tab",
                trigger: ".o_notebook .nav-link:contains('Reminders')",
                run: "click",
            },
            {
                content: "The customer reminder is pre-filled with the customer's mobile",
                trigger:
                    ".o_field_widget[name=insurance_customer_reminder_ids] .o_data_row:contains('+48602000222')",
            },
            {
                content: "The operator reminder is pre-filled too",
                trigger:
                    ".o_field_widget[name=insurance_operator_reminder_ids] .o_data_row:contains('E-mail')",
            },
            {
                content: "Save the task",
                trigger: ".o_form_button_save",
                run: "click",
            },
            {
                content: "The customer's SMS is queued",
                trigger:
                    ".o_field_widget[name=insurance_notify_message_ids] .o_data_row:contains('Tour Customer'):contains('Queued')",
            },
            {
                content: "The operator's e-mail is queued",
                trigger:
                    ".o_field_widget[name=insurance_notify_message_ids] .o_data_row:contains('Tour Operator'):contains('Queued')",
            },
        ];
    },
});
