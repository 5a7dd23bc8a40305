from odoo import models


class BaseImportImport(models.TransientModel):
    _inherit = "base_import.import"

    def execute_import(self, fields, columns, options, dryrun=False):
        """Errors of our imports name the row as the spreadsheet numbers it.

        ``load`` counts the data rows from 0, after the header and the skipped
        lines, and the import screen shows that count ("Error at row 0" for the
        line under the header): a broker looking for the bad row in the file
        looks one or two lines too high. Only models with
        insurance.import.mixin (policies, installments) and contacts are changed.
        """
        result = super().execute_import(fields, columns, options, dryrun=dryrun)
        ours = {"res.partner", *self.pool["insurance.import.mixin"]._inherit_children}
        if self.res_model not in ours or not result.get("messages"):
            return result
        first_line = 1 + (1 if options.get("has_headers") else 0) + (options.get("skip") or 0)
        result["messages"] = [
            {**message, "record": message["record"] + first_line}
            if isinstance(message.get("record"), int)
            else message
            for message in result["messages"]
        ]
        return result
