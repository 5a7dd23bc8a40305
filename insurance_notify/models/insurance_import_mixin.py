from odoo import api, models


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
        errors = [m for m in result["messages"] if m.get("type") == "error"]
        if not errors or not self.env.context.get("import_file"):
            return result
        bad_rows = set()
        for message in errors:
            rows = message.get("rows")
            if not rows:
                # An error that is not about a row (an unknown column): nothing to keep.
                return result
            bad_rows.update(range(rows["from"], rows["to"] + 1))
        good = [row for index, row in enumerate(data) if index not in bad_rows]
        if not good:
            return result
        second = super().load(fields, good)
        if second["ids"] is False:
            return {**result, "messages": result["messages"] + second["messages"]}
        return {**result, "ids": second["ids"]}
