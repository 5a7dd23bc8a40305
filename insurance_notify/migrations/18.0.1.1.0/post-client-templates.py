# ruff: noqa: E501  (template texts are compared whole)
"""New texts for the shipped SMS templates the agency never edited; the
recipient's language for every shipped template.

``pre-client-templates`` marked the untouched SMS templates (``noupdate``
false) and dropped their old translations; a ``noupdate`` data file is not
loaded again on upgrade, so their new body, language and transliteration are
written here from the data file, and the new translations follow (Odoo loads
the module's terms after this script). Then they are locked again. Templates
the agency edited keep their texts; those that render in no language yet get
the client's (then the agency's), as the shipped ones now do.
"""

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools import file_open

LANGS = {
    "insurance.policy": "{{ object.partner_id.lang or object.company_id.partner_id.lang }}",
    "insurance.policy.installment": (
        "{{ object.partner_id.lang or object.company_id.partner_id.lang }}"
    ),
    "res.partner": "{{ object.lang or (object.company_id or user.company_id).partner_id.lang }}",
}
TEMPLATES = {
    "sms.template": [
        "sms_template_policy_expiry",
        "sms_template_installment_due",
        "sms_template_installment_overdue",
        "sms_template_inspection_expiry",
        "sms_template_birthday",
        "sms_template_consent_renewal",
        "sms_template_task_customer",
        "sms_template_task_operator",
    ],
    "mail.template": [
        "mail_template_policy_expiry",
        "mail_template_installment_due",
        "mail_template_consent_renewal",
        "mail_template_task_customer",
        "mail_template_task_operator",
    ],
}
TASK_LANGS = {
    "customer": "{{ object.partner_id.lang or (object.company_id or user.company_id).partner_id.lang }}",
    "operator": "{{ object.user_ids[:1].lang or (object.company_id or user.company_id).partner_id.lang }}",
}


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
    cr.execute(
        "SELECT name FROM ir_model_data WHERE module = 'insurance_notify'"
        " AND model = 'sms.template' AND NOT noupdate AND name = ANY(%s)",
        [TEMPLATES["sms.template"]],
    )
    untouched = {row[0] for row in cr.fetchall()}
    with file_open("insurance_notify/data/sms_template_data.xml", "rb") as data:
        tree = etree.parse(data)
    for record in tree.iter("record"):
        if record.get("id") not in untouched:
            continue
        fields = {field.get("name"): field for field in record.iter("field")}
        env.ref(f"insurance_notify.{record.get('id')}").write(
            {
                "body": fields["body"].text,
                "lang": fields["lang"].text,
                "sms_transliterate": True,
            }
        )
    for model, names in TEMPLATES.items():
        cr.execute(
            "UPDATE ir_model_data SET noupdate = true"
            " WHERE module = 'insurance_notify' AND model = %s AND name = ANY(%s)",
            [model, names],
        )
        for name in names:
            template = env.ref(f"insurance_notify.{name}", raise_if_not_found=False)
            if not template or template.lang:
                continue
            if template.model == "project.task":
                lang = TASK_LANGS["operator" if name.endswith("operator") else "customer"]
            else:
                lang = LANGS.get(template.model)
            values = {"lang": lang} if lang else {}
            if model == "sms.template":
                values["sms_transliterate"] = True
            template.write(values)
