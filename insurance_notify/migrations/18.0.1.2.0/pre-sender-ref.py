"""Every message names its sender in one reference (sender_ref).

Before 18.0.1.2.0 a message named its sender in one of three columns (rule,
bulk send, task reminder) and a test SMS had none. Fill ``sender_ref`` and
``is_reminder`` from those columns before the ORM makes ``sender_ref``
mandatory; test SMS get their company's direct sender ("Test SMS"), whose table
is started here so the reference has a row to name (the ORM adds its other
columns with their defaults). Nothing else of the history changes.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        ALTER TABLE insurance_notify_message
            ADD COLUMN IF NOT EXISTS sender_ref varchar,
            ADD COLUMN IF NOT EXISTS is_reminder boolean
        """
    )
    cr.execute(
        """
        UPDATE insurance_notify_message
           SET sender_ref = CASE
                   WHEN rule_id IS NOT NULL THEN 'insurance.notify.rule,' || rule_id
                   WHEN batch_id IS NOT NULL THEN 'insurance.notify.batch,' || batch_id
                   ELSE 'insurance.task.reminder,' || task_reminder_id
               END,
               is_reminder = rule_id IS NOT NULL
         WHERE sender_ref IS NULL
           AND (rule_id IS NOT NULL OR batch_id IS NOT NULL OR task_reminder_id IS NOT NULL)
        """
    )
    cr.execute("SELECT DISTINCT company_id FROM insurance_notify_message WHERE sender_ref IS NULL")
    companies = [company_id for (company_id,) in cr.fetchall()]
    if not companies:
        return
    cr.execute(
        """
        CREATE TABLE IF NOT EXISTS insurance_notify_direct (
            id serial PRIMARY KEY,
            kind varchar NOT NULL,
            company_id integer NOT NULL REFERENCES res_company (id)
        )
        """
    )
    for company_id in companies:
        cr.execute(
            "INSERT INTO insurance_notify_direct (kind, company_id) "
            "VALUES ('test', %s) RETURNING id",
            [company_id],
        )
        (direct_id,) = cr.fetchone()
        cr.execute(
            """
            UPDATE insurance_notify_message
               SET sender_ref = 'insurance.notify.direct,' || %s, is_reminder = false
             WHERE sender_ref IS NULL AND company_id = %s
            """,
            [direct_id, company_id],
        )
