"""A sender's own Transliterate box decides (18.0.1.3.0).

Before, a sender transliterated when its box *or* its template's was ticked.
Senders whose template transliterates get their box ticked, so nothing that
leaves changes; from now on unticking the box is what it says.
"""

from odoo.tools import SQL

TABLES = ("insurance_notify_rule", "insurance_notify_batch", "insurance_task_reminder")


def migrate(cr, version):
    if not version:
        return
    for table in TABLES:
        cr.execute(
            """
            SELECT count(*) FROM information_schema.columns
             WHERE table_name = %s AND column_name IN ('sms_template_id', 'sms_transliterate')
            """,
            (table,),
        )
        if cr.fetchone()[0] != 2:
            continue
        cr.execute(
            SQL(
                """
                UPDATE %s AS sender
                   SET sms_transliterate = TRUE
                  FROM sms_template AS template
                 WHERE template.id = sender.sms_template_id
                   AND template.sms_transliterate
                   AND NOT COALESCE(sender.sms_transliterate, FALSE)
                """,
                SQL.identifier(table),
            )
        )
