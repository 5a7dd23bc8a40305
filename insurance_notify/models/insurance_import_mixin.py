from odoo import api, models
from odoo.tools.translate import translate_sql_constraint


def _error_rows(message):
    rows = message["rows"]
    return range(rows["from"], rows["to"] + 1)


def _moved(message, indexes):
    """A message of a load of the rows ``indexes`` of the file, about the file's rows."""
    rows = [indexes[row] for row in _error_rows(message)]
    moved = {**message, "rows": {"from": rows[0], "to": rows[-1]}}
    if isinstance(message.get("record"), int) and 0 <= message["record"] < len(indexes):
        # The row the import screen names ("Error at row …").
        moved["record"] = indexes[message["record"]]
    return moved


def constraint_message(env, key, default):
    """The message of SQL constraint ``key`` in the user's language."""
    lang = env.lang or "en_US"
    if lang == "en_US":
        return default
    try:
        return translate_sql_constraint(env.cr, key, lang) or default
    except TypeError:  # not reflected yet (during the add-on's installation)
        return default


def _translate_constraint_errors(model, messages):
    """Odoo's load reports a violated CHECK in English ("'A policy cannot end
    before it starts.'"): give it in the user's language."""
    texts = {
        f"'{message}'": constraint_message(model.env, f"{model._table}_{name}", message)
        for name, _definition, message in model._sql_constraints
    }
    return [
        {**message, "message": texts[message["message"]]}
        if message.get("message") in texts
        else message
        for message in messages
    ]


def load_keeping_good_rows(model, load, fields, data, keep_good_rows=True):
    """What ``load`` (the stock one, bound) gives, for an import that keeps the
    good rows of a file and names each bad one.

    Stock ``load`` rolls everything back on the first bad row. A book of
    business is imported from spreadsheets kept for years, where a few rows
    always are wrong: the broker gets every bad row with its error and the
    rest is in, as the wizard already shows imported ids next to errors. With
    ``keep_good_rows`` false the file stays all or nothing, as stock, and only
    the errors are corrected: each at its own row, never the batch's first
    row where Odoo repeats a batch's error; CHECK messages translated.
    """
    result = _load_keeping_good_rows(model, load, fields, data, keep_good_rows)
    if result.get("messages"):
        result = {**result, "messages": _translate_constraint_errors(model, result["messages"])}
    return result


def _load_keeping_good_rows(model, load, fields, data, keep_good_rows):
    result = load(fields, data)
    if not model.env.context.get("import_file"):
        return result
    errors = [m for m in result["messages"] if m.get("type") == "error"]
    if not errors:
        return result
    if any(not m.get("rows") for m in errors):
        # An error that is not about a row (an unknown column): nothing to keep.
        return result
    # When a batch fails, Odoo repeats the batch's error on the batch's first
    # row: a row whose only errors are copies of another row's is retried.
    rows_by_text = {}
    for message in errors:
        rows_by_text.setdefault(message["message"], set()).update(_error_rows(message))
    kept, bad = [], set()
    for message in errors:
        own = set(_error_rows(message))
        if rows_by_text[message["message"]] - own and message is errors[0]:
            continue
        kept.append(message)
        bad |= own
    messages = [m for m in result["messages"] if m.get("type") != "error"] + kept
    if not keep_good_rows:
        return {**result, "messages": messages}
    for _attempt in range(2):
        indexes = [index for index in range(len(data)) if index not in bad]
        if not indexes:
            return {**result, "messages": messages}
        second = load(fields, [data[index] for index in indexes])
        more = [m for m in second["messages"] if m.get("type") == "error"]
        if not more:
            return {**result, "ids": second["ids"], "messages": messages}
        if any(not m.get("rows") for m in more):
            return {**result, "messages": messages + more}
        for message in more:
            moved = _moved(message, indexes)
            bad.update(_error_rows(moved))
            messages.append(moved)
    return {**result, "messages": messages}


class InsuranceImportMixin(models.AbstractModel):
    """Imports keep the good rows of a file and report the bad ones, each at its
    own row (see :func:`load_keeping_good_rows`). Contacts, which cannot take
    a new parent model, call the function from their own ``load``."""

    _name = "insurance.import.mixin"
    _description = "Import that keeps the good rows"

    @api.model
    def load(self, fields, data):
        return load_keeping_good_rows(self, super().load, fields, data)
