from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_date

CONSENT_SOURCES = [
    ("form", "Form"),
    ("import", "Import"),
    ("portal", "Portal"),
    ("stop", "Inbound STOP"),
    ("system", "System"),
]
# Raw values stored since 18.0.1.1.0; older rows hold the English words.
GIVEN, NOT_GIVEN = "1", "0"
OLD_WORDS = {"Given": GIVEN, "Not given": NOT_GIVEN}


class InsuranceConsentLog(models.Model):
    """One change of one consent of a client: the GDPR proof of who, when, how
    and on what terms. Append-only: only the add-on's code writes it, once."""

    _name = "insurance.consent.log"
    _description = "Consent Change"
    _order = "date desc, id desc"
    _log_access = True

    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(
        "res.company",
        index=True,
        readonly=True,
        help="The company that received the change (the user's, or the gateway's for a STOP).",
    )
    consent = fields.Selection(selection="_selection_consent", required=True, readonly=True)
    old_value = fields.Char(readonly=True)
    new_value = fields.Char(readonly=True)
    old_display = fields.Char(string="Before", compute="_compute_display_values")
    new_display = fields.Char(string="After", compute="_compute_display_values")
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Changed By", default=lambda self: self.env.user, readonly=True
    )
    source = fields.Selection(CONSENT_SOURCES, required=True, default="form", readonly=True)
    proof_text = fields.Text(
        string="Proof",
        readonly=True,
        help="The text the client agreed to, or how the consent was given or withdrawn.",
    )
    proof_attachment_id = fields.Many2one(
        "ir.attachment", string="Proof Document", readonly=True, ondelete="restrict"
    )

    def _auto_init(self):
        """Changes logged before the company was recorded get their client's
        company (shared clients: none, seen by every company)."""
        result = super()._auto_init()
        self.env.cr.execute(
            """
            UPDATE insurance_consent_log l SET company_id = p.company_id
              FROM res_partner p
             WHERE p.id = l.partner_id AND l.company_id IS NULL AND p.company_id IS NOT NULL
            """
        )
        return result

    def _selection_consent(self):
        partner_fields = self.env["res.partner"]._fields
        return [
            (name, partner_fields[name]._description_string(self.env))
            for name in self.env["res.partner"]._consent_fields()
        ]

    @api.depends("consent", "old_value", "new_value")
    @api.depends_context("lang")
    def _compute_display_values(self):
        for log in self:
            log.old_display = log._display_value(log.old_value)
            log.new_display = log._display_value(log.new_value)

    def _display_value(self, value):
        """A stored value in the reader's language and date format."""
        if self.consent == "consent_valid_until":
            return format_date(self.env, value) if value else ""
        value = OLD_WORDS.get(value, value)
        return self.env._("Given") if value == GIVEN else self.env._("Not given")

    # The trail is evidence: nobody rewrites or removes it by hand. The ACL
    # gives no one write or unlink; this holds even where an ACL is added.
    def write(self, vals):
        if not self.env.su:
            raise AccessError(self.env._("The consent history cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never_by_hand(self):
        if not self.env.su:
            raise AccessError(self.env._("The consent history cannot be deleted."))
