# ruff: noqa: E501  (template texts are compared whole)
"""Shipped SMS templates the agency never edited get the new texts.

The templates are ``noupdate``: an upgrade alone would keep the English-only
texts (and their stale Polish and Lithuanian translations) of 18.0.1.0.0. A
template whose English body is still the one shipped then is unlocked here,
its old translations dropped, so the upgrade loads the new body, language and
translations; ``post-client-templates`` locks it again. A template the agency
changed is left as it is.
"""

OLD_BODIES = {
    "sms_template_policy_expiry": (
        "Hello {{ object.partner_id.name }}, your policy {{ object.name }} ({{ object.subject or object.product_id.name }}) ends on {{ format_date(object.date_end) }}. To renew it, contact {{ object.user_id.name }}{{ object.user_id.mobile and ', ' + object.user_id.mobile or '' }}."
    ),
    "sms_template_installment_due": (
        "Reminder: {{ format_amount(object.amount, object.currency_id) }} for policy {{ object.policy_id.name }} is due by {{ format_date(object.date_due) }}. Thank you, {{ object.policy_id.company_id.name }}."
    ),
    "sms_template_installment_overdue": (
        "The installment of {{ format_amount(object.amount, object.currency_id) }} for policy {{ object.policy_id.name }} was due on {{ format_date(object.date_due) }}. Please pay it to keep your cover. {{ object.policy_id.company_id.name }}"
    ),
    "sms_template_inspection_expiry": (
        "The technical inspection of {{ object.vehicle_model or object.subject_display }} {{ object.vehicle_plate or '' }} ends on {{ format_date(object.inspection_date) }}. {{ object.company_id.name }}"
    ),
    "sms_template_birthday": (
        "Happy birthday, {{ object.name.split(' ')[0] }}! All the best from {{ object.company_id.name or user.company_id.name }}."
    ),
    "sms_template_consent_renewal": (
        "{{ object.name.split(' ')[0] }}, your consent to our messages ends on {{ format_date(object.consent_valid_until) }}. Reply or call us to renew it. {{ object.company_id.name or user.company_id.name }}"
    ),
}


def migrate(cr, version):
    if not version:
        return
    for name, body in OLD_BODIES.items():
        cr.execute(
            """
            UPDATE sms_template t
               SET body = jsonb_build_object('en_US', t.body->>'en_US')
              FROM ir_model_data d
             WHERE d.module = 'insurance_notify' AND d.name = %s
               AND d.model = 'sms.template' AND d.res_id = t.id
               AND t.body->>'en_US' = %s
         RETURNING d.id
            """,
            [name, body],
        )
        unlocked = [row[0] for row in cr.fetchall()]
        if unlocked:
            cr.execute("UPDATE ir_model_data SET noupdate = false WHERE id = ANY(%s)", [unlocked])
