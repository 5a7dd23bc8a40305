"""Templates run no code for managers; an agency's templates are its own.

Before 18.0.1.3.0 the Insurance Manager group implied Odoo's template editor
right (code in templates) and the demo gave it to managers again; removing the
implication does not take the right back from users who got it, so it is taken
here from every insurance manager who is no Settings administrator — unless an
administrator gave it to every employee (``mail.restrict.template.rendering``
off), which is their choice.

Templates had no agency. A template that is no module data and that only one
agency's rules, bulk sends and task reminders use becomes that agency's;
module data and templates several agencies use stay shared (administrators').
Templates holding code a manager wrote are left as they are: they no longer
render (their messages fail with ``template_code``) until an administrator
checks them.
"""

from odoo import SUPERUSER_ID, Command, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    editor = env.ref("mail.group_mail_template_editor")
    manager = env.ref("insurance_notify.group_insurance_manager")
    restricted = env["ir.config_parameter"].get_param("mail.restrict.template.rendering")
    if restricted:
        users = manager.with_context(active_test=False).users.filtered(
            lambda user: not user._is_system()
        )
        if users:
            editor.write({"users": [Command.unlink(user.id) for user in users]})

    for model in ("sms.template", "mail.template"):
        templates = env[model].with_context(active_test=False).search([("company_id", "=", False)])
        data = set(
            env["ir.model.data"]
            .search([("model", "=", model), ("res_id", "in", templates.ids)])
            .mapped("res_id")
        )
        for template in templates:
            if template.id in data:
                continue
            companies = env["res.company"]
            for senders in template._insurance_senders():
                companies |= senders.company_id
            if len(companies) == 1:
                template.company_id = companies
