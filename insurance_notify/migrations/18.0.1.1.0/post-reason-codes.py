"""Reasons became codes shown in the viewer's language: messages from before
keep their English text as a "legacy" reason; their first due time is their
scheduled time."""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE insurance_notify_message
           SET reason_code = 'legacy',
               reason_params = jsonb_build_object('text', reason)
         WHERE reason IS NOT NULL AND reason <> '' AND reason_code IS NULL
        """
    )
    cr.execute("UPDATE insurance_notify_message SET due_at = scheduled_at WHERE due_at IS NULL")
