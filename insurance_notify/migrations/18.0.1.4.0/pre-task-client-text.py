# ruff: noqa: E501  (template texts are compared whole)
"""The shipped customer task templates no longer send the task's name.

They said ``{{ object.name }}``, the task's internal title; they now say
``object.insurance_client_label`` (the task's text for the client, else a
neutral phrase). The templates are ``noupdate``: one whose English text is
still the shipped one is unlocked here and its old translations dropped, so
the upgrade loads the new text and its Polish and Lithuanian translations;
``post-task-client-text`` locks it again. A template the agency changed is
left as it is.
"""

OLD_SMS_BODY = "Reminder: {{ object.name }} on {{ object.insurance_deadline_date }} at {{ object.insurance_deadline_time }}. {{ object.company_id.name or user.company_id.name }}"
OLD_SUBJECT = "Reminder: {{ object.name }} on {{ object.insurance_deadline_date }} at {{ object.insurance_deadline_time }}"
OLD_BODY_WORDS = '<p>this is a reminder of <strong t-out="object.name"'


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE sms_template t
           SET body = jsonb_build_object('en_US', t.body->>'en_US')
          FROM ir_model_data d
         WHERE d.module = 'insurance_notify' AND d.name = 'sms_template_task_customer'
           AND d.model = 'sms.template' AND d.res_id = t.id
           AND t.body->>'en_US' = %s
     RETURNING d.id
        """,
        [OLD_SMS_BODY],
    )
    unlocked = [row[0] for row in cr.fetchall()]
    cr.execute(
        """
        UPDATE mail_template t
           SET subject = jsonb_build_object('en_US', t.subject->>'en_US'),
               body_html = jsonb_build_object('en_US', t.body_html->>'en_US')
          FROM ir_model_data d
         WHERE d.module = 'insurance_notify' AND d.name = 'mail_template_task_customer'
           AND d.model = 'mail.template' AND d.res_id = t.id
           AND t.subject->>'en_US' = %s
           AND strpos(t.body_html->>'en_US', %s) > 0
     RETURNING d.id
        """,
        [OLD_SUBJECT, OLD_BODY_WORDS],
    )
    unlocked += [row[0] for row in cr.fetchall()]
    if unlocked:
        cr.execute("UPDATE ir_model_data SET noupdate = false WHERE id = ANY(%s)", [unlocked])
