"""Lock again the customer task templates ``pre-task-client-text`` unlocked
(the data file and its translations are loaded by now): the agency's later
edits survive the next upgrades."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "UPDATE ir_model_data SET noupdate = true WHERE module = 'insurance_notify'"
        " AND name IN ('sms_template_task_customer', 'mail_template_task_customer')"
    )
