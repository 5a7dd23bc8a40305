"""Checks a broker's template before it is saved, and names what renders empty.

Brokers write templates, not developers: an unknown field, a broken
expression, or a token copied from another broker system (Insly's
``{policy.no}``, Mintak's ``<NR_POLISY>``) is refused when the template is
saved, with a message naming it and the placeholder to use instead, rather
than failing (or going out literally) at 8 a.m. in front of a client.
"""

import ast
import difflib
import re

from odoo import api, models
from odoo.exceptions import ValidationError
from odoo.tools.rendering_tools import parse_inline_template

# {policy.no}, {client_name} — single braces, not part of a {{ }} placeholder.
FOREIGN_BRACES = re.compile(r"(?<!\{)\{\s*([A-Za-z_][\w.\-]*)\s*\}(?!\})")
# <NR_POLISY>, <DATA_KONCA> (also HTML-escaped inside an e-mail body).
FOREIGN_ANGLES = re.compile(r"(?:<|&lt;)([A-Z][A-Z0-9_]{1,40})(?:>|&gt;)")
# QWeb attributes of an e-mail body holding expressions.
QWEB_EXPRESSION = re.compile(r'\bt-(?:out|esc|if|elif|foreach|att-\w+)="([^"]*)"')

# What a token from another system is called here, by the words it contains
# (English, Polish, Lithuanian), per model; checked in order.
EQUIVALENTS = {
    "insurance.policy": [
        (("plate", "rej", "numer_rej", "valst"), "{{ object.vehicle_plate }}"),
        (("model", "marka", "vehicle", "pojazd", "auto"), "{{ object.vehicle_display }}"),
        (
            ("insurer", "tu", "towarzystwo", "ubezpieczyciel", "draudik"),
            "{{ object.insurer_id.name }}",
        ),
        (("broker", "agent", "opiekun", "doradca"), "{{ object.broker_contact }}"),
        (("inspection", "przeglad", "apziur"), "{{ format_date(object.inspection_date) }}"),
        (
            ("end", "koniec", "konca", "expiry", "wazna", "pabaig"),
            "{{ format_date(object.date_end) }}",
        ),
        (("start", "poczatek", "pradzi"), "{{ format_date(object.date_start) }}"),
        (
            ("premium", "skladka", "kwota", "amount"),
            "{{ format_amount(object.premium_amount, object.currency_id) }}",
        ),
        (("client", "klient", "name", "imie", "nazwisko", "vard"), "{{ object.partner_id.name }}"),
        (("no", "nr", "number", "numer", "polis", "policy"), "{{ object.name }}"),
    ],
    "insurance.policy.installment": [
        (
            ("amount", "kwota", "rata", "suma", "sum"),
            "{{ format_amount(object.amount, object.currency_id) }}",
        ),
        (("due", "termin", "date", "data"), "{{ format_date(object.date_due) }}"),
        (("broker", "agent", "opiekun"), "{{ object.broker_contact }}"),
        (("client", "klient", "name", "imie", "nazwisko"), "{{ object.partner_id.name }}"),
        (("no", "nr", "number", "numer", "polis", "policy"), "{{ object.policy_name }}"),
    ],
    "res.partner": [
        (("consent", "zgod", "sutikim"), "{{ format_date(object.consent_valid_until) }}"),
        (("birth", "urodz", "gimt"), "{{ format_date(object.birthdate) }}"),
        (("name", "imie", "nazwisko", "client", "klient"), "{{ object.name }}"),
    ],
}


class InsuranceTemplateCheck(models.AbstractModel):
    _name = "insurance.template.check"
    _description = "Template Placeholder Check"

    # ------------------------------------------------------------------
    # On save
    # ------------------------------------------------------------------

    def _insurance_check_texts(self, texts):
        """Refuse ``texts`` (template -> {label: (text, is_html)}) with a message
        naming the first bad placeholder.

        Checked: templates of insurance models, and any template edited from
        the Insurance menus (context ``insurance_template_check``). Other
        modules' templates are left to their own rules, and module data is
        trusted (its templates are tested)."""
        if self.env.context.get("install_module"):
            return
        everywhere = self.env.context.get("insurance_template_check")
        for template in self:
            model = template.model
            if not model or model not in self.env:
                continue
            if not (everywhere or model.startswith("insurance.")):
                continue
            for label, (text, is_html) in texts(template).items():
                if text:
                    template._insurance_check_text(model, label, str(text), is_html)

    def _insurance_check_text(self, model, label, text, is_html):
        for token in FOREIGN_BRACES.findall(text) + FOREIGN_ANGLES.findall(text):
            raise ValidationError(
                self.env._(
                    "%(label)s of %(template)s contains “%(token)s”, a placeholder of another "
                    "program: it would be sent to the client as it is. Use %(placeholder)s "
                    "instead (the magic wand inserts fields).",
                    label=label,
                    template=self.display_name,
                    token=token,
                    placeholder=self._insurance_equivalent(model, token),
                )
            )
        expressions = [expr for _text, expr, _default in parse_inline_template(text) if expr]
        if is_html:
            expressions += [expr for expr in QWEB_EXPRESSION.findall(text) if expr]
        for expression in expressions:
            self._insurance_check_expression(model, label, expression)

    @api.model
    def _insurance_equivalent(self, model, token):
        words = set(re.split(r"[^a-z0-9]+", token.lower())) - {""}
        joined = token.lower()
        for keys, placeholder in EQUIVALENTS.get(model, []):
            if any(key in words or (len(key) > 3 and key in joined) for key in keys):
                return placeholder
        return "{{ object.… }}"

    def _insurance_check_expression(self, model, label, expression):
        source = expression.split("|||")[0].strip()
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as error:
            raise ValidationError(
                self.env._(
                    "%(label)s of %(template)s: “%(expression)s” is not a valid placeholder "
                    "(%(error)s).",
                    label=label,
                    template=self.display_name,
                    expression=expression,
                    error=error.msg,
                )
            ) from error
        for chain in _object_chains(tree):
            self._insurance_check_chain(model, label, chain)

    def _insurance_check_chain(self, model, label, chain):
        """``chain`` is ["partner_id", "lang"] for ``object.partner_id.lang``."""
        Model = self.env[model]
        for index, name in enumerate(chain):
            field = Model._fields.get(name)
            if field is None:
                if hasattr(Model, name):  # a method or property, e.g. display_name
                    return
                known = {
                    fname: f.get_description(self.env)["string"]
                    for fname, f in Model._fields.items()
                }
                close = difflib.get_close_matches(name, known, n=1)
                hint = (
                    self.env._(
                        " Did you mean “%(name)s” (%(label)s)?",
                        name=close[0],
                        label=known[close[0]],
                    )
                    if close
                    else ""
                )
                raise ValidationError(
                    self.env._(
                        "%(label)s of %(template)s: “%(path)s” is not a field of "
                        "%(model)s.%(hint)s",
                        label=label,
                        template=self.display_name,
                        path=".".join(["object", *chain[: index + 1]]),
                        model=Model._description,
                        hint=hint,
                    )
                )
            if not field.relational:
                return  # further attributes are the value's own (.split, .year)
            Model = self.env[field.comodel_name]

    # ------------------------------------------------------------------
    # Empty values, for the preview
    # ------------------------------------------------------------------

    def _insurance_empty_placeholders(self, text, res_id):
        """The placeholders of ``text`` that render empty for record ``res_id``."""
        self.ensure_one()
        empty = []
        for _text, expression, default in parse_inline_template(text or ""):
            if not expression or default:
                continue
            try:
                value = self._render_template(
                    f"{{{{ {expression} }}}}",
                    self.model,
                    [res_id],
                    engine="inline_template",
                )[res_id]
            except Exception:  # noqa: BLE001 - the save check names broken ones
                continue
            if not str(value or "").strip():
                empty.append(expression)
        return empty


def _object_chains(tree):
    """Attribute chains rooted at ``object`` in an expression: object.a.b -> [a, b]."""
    chains = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        names = []
        current = node
        while isinstance(current, ast.Attribute):
            names.append(current.attr)
            current = current.value
        if isinstance(current, ast.Name) and current.id == "object":
            chains.append(list(reversed(names)))
    # object.a.b also yields object.a: keep the longest chains only.
    chains.sort(key=len, reverse=True)
    kept = []
    for chain in chains:
        if not any(other[: len(chain)] == chain for other in kept):
            kept.append(chain)
    return kept
