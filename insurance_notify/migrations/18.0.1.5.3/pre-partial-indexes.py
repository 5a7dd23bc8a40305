"""Fewer index entries per write of a message (the dispatcher writes each
message twice): the index of its reason and of its provider id hold only the
messages that have one (``btree_not_null``); its key is indexed by its UNIQUE
constraint alone; its client with the time it was sent (see the model's
``init``). Odoo creates a field's index only when none of that name exists,
and keeps an index it no longer expects: the old ones are dropped here, and
the update creates the new ones. No row is read or changed."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "DROP INDEX IF EXISTS insurance_notify_message__reason_code_index,"
        " insurance_notify_message__provider_ref_index,"
        " insurance_notify_message__key_index,"
        " insurance_notify_message__partner_id_index"
    )
