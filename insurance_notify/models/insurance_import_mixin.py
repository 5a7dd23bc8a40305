from odoo import api, models


def _error_rows(message):
    rows = message["rows"]
    return range(rows["from"], rows["to"] + 1)


class InsuranceImportMixin(models.AbstractModel):
    """Imports keep the good rows of a file and report the bad ones.

    Stock ``load`` rolls everything back on the first bad row. A book of
    business is imported from spreadsheets kept for years, where a few rows
    always are wrong: the broker gets every bad row with its error and the
    rest is in, as the wizard already shows imported ids next to errors.
    """

    _name = "insurance.import.mixin"
    _description = "Import that keeps the good rows"

    @api.model
    def load(self, fields, data):
        result = super().load(fields, data)
        if not self.env.context.get("import_file"):
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
        for _attempt in range(2):
            indexes = [index for index in range(len(data)) if index not in bad]
            if not indexes:
                return {**result, "messages": messages}
            second = super().load(fields, [data[index] for index in indexes])
            more = [m for m in second["messages"] if m.get("type") == "error"]
            if not more:
                return {**result, "ids": second["ids"], "messages": messages}
            if any(not m.get("rows") for m in more):
                return {**result, "messages": messages + more}
            for message in more:
                rows = [indexes[row] for row in _error_rows(message)]
                bad.update(rows)
                messages.append({**message, "rows": {"from": rows[0], "to": rows[-1]}})
        return {**result, "messages": messages}
