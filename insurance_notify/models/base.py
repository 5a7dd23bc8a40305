from odoo import api, models


class Base(models.AbstractModel):
    _inherit = "base"

    @api.model
    def mail_allowed_qweb_expressions(self):
        """An insurance model's own fields are placeholders a manager may use.

        Stock Odoo lets a user who may not write code in templates (a manager
        once ``mail.restrict.template.rendering`` is on) pick only the name,
        partner and salesperson in the field picker, which reads this list;
        the policy's end date or premium, the texts a reminder is made of,
        would not even be offered. A field is a plain placeholder, checked
        again on save and before rendering (``insurance.template.check``);
        only fields this user may read are listed."""
        allowed = super().mail_allowed_qweb_expressions()
        if not self._name.startswith("insurance."):
            return allowed
        own = tuple(
            f"object.{name}"
            for name, field in self._fields.items()
            if field.is_accessible(self.env) and f"object.{name}" not in allowed
        )
        return tuple(allowed) + own
