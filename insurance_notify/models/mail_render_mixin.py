from odoo import api, models

from ..tools.safe_eval_cache import format_scope, formatted_once, in_run

# The formatting helpers of the templates' evaluation context.
FORMATTERS = ("format_date", "format_datetime", "format_time", "format_amount")


class MailRenderMixin(models.AbstractModel):
    _inherit = "mail.render.mixin"

    @api.model
    def _render_eval_context(self):
        """Inside a run of many texts (``compile_once``: a dry run, a
        dispatcher chunk), each date or amount is formatted once; elsewhere
        the context is stock Odoo's."""
        context = super()._render_eval_context()
        if not in_run():
            return context
        scope = format_scope(self.env)
        for name in FORMATTERS:
            context[name] = _formatted_once(name, scope, context[name])
        return context


def _formatted_once(name, scope, format_value):
    def once(*args, **kwargs):
        key = (name, scope, args, tuple(sorted(kwargs.items())))
        return formatted_once(key, lambda: format_value(*args, **kwargs))

    return once
