from odoo import fields, models

CONSENT_SOURCES = [
    ("form", "Form"),
    ("import", "Import"),
    ("portal", "Portal"),
    ("stop", "Inbound STOP"),
    ("system", "System"),
]


class InsuranceConsentLog(models.Model):
    """One change of one consent of a client: the GDPR proof of who, when and how."""

    _name = "insurance.consent.log"
    _description = "Consent Change"
    _order = "date desc, id desc"
    _log_access = True

    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, ondelete="cascade", readonly=True
    )
    consent = fields.Selection(selection="_selection_consent", required=True, readonly=True)
    old_value = fields.Char(readonly=True)
    new_value = fields.Char(readonly=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Changed By", default=lambda self: self.env.user, readonly=True
    )
    source = fields.Selection(CONSENT_SOURCES, required=True, default="form", readonly=True)

    def _selection_consent(self):
        partner_fields = self.env["res.partner"]._fields
        return [
            (name, partner_fields[name]._description_string(self.env))
            for name in self.env["res.partner"]._consent_fields()
        ]
