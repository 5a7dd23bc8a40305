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

from lxml import html as lxml_html

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.rendering_tools import parse_inline_template

from ..lib.notify_engine import placeholders

# QWeb directives a placeholder-only e-mail body may hold: printing a value
# and showing a part or not. Loops, variables, calls and raw attributes are code.
PLACEHOLDER_DIRECTIVES = frozenset({"t-out", "t-esc", "t-if", "t-elif", "t-else"})
# The senders' fields naming their templates.
TEMPLATE_FIELDS = {"sms.template": "sms_template_id", "mail.template": "mail_template_id"}


class TemplateCodeError(AccessError):
    """A template holds code (not placeholders) that no template editor wrote;
    it is not rendered. ``expression`` is the refused piece."""

    def __init__(self, message, template, expression):
        super().__init__(message)
        self.template = template
        self.expression = expression


def may_write_code(user):
    """Odoo's right to write code in templates: the template editors, whom
    stock Odoo keeps to administrators (``mail.restrict.template.rendering``),
    and the superuser loading module data."""
    return bool(user) and (
        user._is_superuser() or user.has_group("mail.group_mail_template_editor")
    )


# {policy.no}, {client_name} — single braces, not part of a {{ }} placeholder.
FOREIGN_BRACES = re.compile(r"(?<!\{)\{\s*([A-Za-z_][\w.\-]*)\s*\}(?!\})")
# <NR_POLISY>, <DATA_KONCA> (also HTML-escaped inside an e-mail body).
FOREIGN_ANGLES = re.compile(r"(?:<|&lt;)([A-Z][A-Z0-9_]{1,40})(?:>|&gt;)")
# What Odoo's placeholder picker inserts: {{object.path}} or {{object.path ||| default}}.
PICKED = re.compile(r"\{\{object\.([\w.]+)(?: \|\|\| ([^{}]*))?\}\}")
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
    # Placeholders only: no code for anyone but the template editors
    # ------------------------------------------------------------------

    def _insurance_is_ours(self):
        """Whether this template is one of the add-on's: an agency's (it has a
        company), about an insurance record, edited from the Insurance menus,
        or used by a rule, bulk send or task reminder. Other templates keep
        stock Odoo's rules unchanged."""
        self.ensure_one()
        return bool(
            self.company_id
            or (self.model or "").startswith("insurance.")
            or self.env.context.get("insurance_template_check")
            or self._insurance_senders()
        )

    def _insurance_senders(self):
        """The rules, bulk sends and task reminders (active or not) sending
        with these templates."""
        field = TEMPLATE_FIELDS.get(self._name)
        senders = []
        if not self.ids or not field:
            return senders
        for model in self.pool.descendants(["insurance.notify.sender"], "_inherit"):
            Sender = self.env[model]
            if Sender._abstract or Sender._transient or field not in Sender._fields:
                continue
            senders.append(
                Sender.sudo().with_context(active_test=False).search([(field, "in", self.ids)])
            )
        return [found for found in senders if found]

    def _insurance_rendered_texts(self):
        """fname -> (text, is_qweb) of every text field Odoo renders."""
        self.ensure_one()
        texts = {}
        for fname, field in self._fields.items():
            if field.type not in ("char", "text", "html") or not field.store:
                continue
            value = self[fname]
            if value and ("{{" in value or "t-" in value):
                texts[fname] = (str(value), getattr(field, "render_engine", "") == "qweb")
        return texts

    def _insurance_code_refusal(self, author, texts=None):
        """(expression, why) of the first piece of ``texts`` (default: the
        template's rendered fields) that is more than a placeholder ``author``
        may write, else None."""
        self.ensure_one()
        if texts is None:
            texts = self._insurance_rendered_texts()
        for text, is_qweb in texts.values():
            for expression in self._insurance_expressions(text, is_qweb):
                why = self._insurance_expression_refusal(expression, author)
                if why:
                    return expression, why
        return None

    @api.model
    def _insurance_expressions(self, text, is_qweb):
        """The expressions of a text; a QWeb directive beyond printing and
        showing is returned as itself (it is refused)."""
        expressions = [expr for _text, expr, _default in parse_inline_template(text) if expr]
        if is_qweb:
            try:
                root = lxml_html.fragment_fromstring(text, create_parent="div")
            except Exception:  # noqa: BLE001 - not HTML: nothing QWeb would run
                return expressions
            for element in root.iter():
                if not isinstance(element.tag, str):
                    continue
                for attribute, value in element.attrib.items():
                    if not attribute.startswith("t-"):
                        continue
                    if attribute not in PLACEHOLDER_DIRECTIVES:
                        expressions.append(f"{attribute}={value!r}")
                    elif attribute != "t-else":
                        expressions.append(value)
        return expressions

    def _insurance_expression_refusal(self, expression, author):
        """Why ``expression`` is not a placeholder ``author`` may write (a
        translated sentence), else None."""
        if re.match(r"^t-[\w-]+=", expression):
            return self.env._("a QWeb instruction other than printing a value or showing a part")
        verdict = placeholders.check(expression)
        problems = {
            placeholders.SYNTAX: self.env._("not a valid placeholder"),
            placeholders.CALL: self.env._("a call of “%(name)s”", name=verdict.detail),
            placeholders.PRIVATE: self.env._("the private name “%(name)s”", name=verdict.detail),
            placeholders.UNSAFE: self.env._(
                "“%(name)s”, which reaches past the record", name=verdict.detail
            ),
            placeholders.NAME: self.env._("the unknown name “%(name)s”", name=verdict.detail),
            placeholders.CONSTRUCT: self.env._("code (%(name)s)", name=verdict.detail),
        }
        if verdict.problem:
            return problems[verdict.problem]
        # Written outside the ORM (no author): read as the public user may.
        author_env = self.env(user=(author or self.env.ref("base.public_user")).id, su=False)
        for root, chain in verdict.paths:
            model = self.model if root == "object" else "res.users"
            if not model or model not in self.env:
                return self.env._("a placeholder of a template without a model")
            Model = self.env[model]
            relational = True
            for index, name in enumerate(chain):
                path = ".".join([root, *chain[: index + 1]])
                field = Model._fields.get(name)
                # Fields only, and nothing after a value (.split, .year).
                if field is None or not relational:
                    return self.env._("“%(path)s”, which is not a field", path=path)
                if not field.is_accessible(author_env) or not author_env["ir.model.access"].check(
                    Model._name, "read", raise_exception=False
                ):
                    return self.env._("“%(path)s”, which its author may not read", path=path)
                relational = field.relational
                if relational:
                    Model = self.env[field.comodel_name]
        return None

    def _insurance_check_code_on_save(self):
        """For ``_check_access_right_dynamic_template``: a user who may not write
        code saves placeholders only in the add-on's templates. Returns the
        templates left to stock Odoo's check."""
        user = self.env.user
        if self.env.su or may_write_code(user):
            return self
        ours = self.browse()
        for template in self:
            if not template.sudo()._insurance_is_ours():
                continue
            ours |= template
            refusal = template.sudo()._insurance_code_refusal(user)
            if refusal:
                raise AccessError(
                    self.env._(
                        "The template %(template)s contains %(why)s: “%(expression)s”. Only "
                        "administrators write code in templates; use placeholders the magic "
                        "wand inserts, such as {{ object.name }} or "
                        "{{ format_date(object.date_end) }}.",
                        template=template.sudo().display_name,
                        why=refusal[1],
                        expression=refusal[0],
                    )
                )
        return self - ours

    def _insurance_guard_render(self, template_src, engine="inline_template", *_args, **_kwargs):
        """Before rendering ``template_src`` of this template: refuse code no
        template editor wrote in one of the add-on's templates (written before
        managers lost the right, or put in the database some other way)."""
        if len(self) != 1 or not self.id or not template_src or not isinstance(template_src, str):
            return
        template = self.sudo()
        author = template.write_uid
        if may_write_code(author):
            return
        is_qweb = engine == "qweb"
        refusal = template._insurance_code_refusal(author, {"src": (template_src, is_qweb)})
        if not refusal or not template._insurance_is_ours():
            return
        raise TemplateCodeError(
            self.env._(
                "The template %(template)s contains %(why)s: “%(expression)s”, which no "
                "administrator wrote. It is not rendered: an administrator must check it.",
                template=template.display_name,
                why=refusal[1],
                expression=refusal[0],
            ),
            template,
            refusal[0],
        )

    def _insurance_guard_render_all(self):
        """``_insurance_guard_render`` for every text this template renders."""
        for text, is_qweb in self.sudo()._insurance_rendered_texts().values():
            self._insurance_guard_render(text, "qweb" if is_qweb else "inline_template")

    def _insurance_check_render_safe(self):
        """For a sender choosing this template: refused when its text would not render."""
        for template in self.sudo():
            author = template.write_uid
            if may_write_code(author):
                continue
            refusal = template._insurance_code_refusal(author)
            if refusal:
                raise ValidationError(
                    self.env._(
                        "The template %(template)s contains %(why)s: “%(expression)s”, which "
                        "no administrator wrote; it cannot be sent. Choose another template "
                        "or ask an administrator to check it.",
                        template=template.display_name,
                        why=refusal[1],
                        expression=refusal[0],
                    )
                )

    @api.model
    def _insurance_default_company(self):
        """New templates of an insurance manager who is no administrator are
        their agency's (they may not write shared ones); anyone else's are
        shared, as in stock Odoo."""
        user = self.env.user
        if (
            not self.env.su
            and not user._is_system()
            and user.has_group("insurance_notify.group_insurance_manager")
        ):
            return self.env.company
        return False

    def _insurance_check_company(self):
        """Shared texts of the add-on (no agency) are the administrators': an
        insurance manager's template belongs to their agency."""
        if self.env.su or self.env.user._is_system():
            return
        for template in self:
            if not template.company_id and template._insurance_is_ours():
                raise ValidationError(
                    self.env._(
                        "Choose the agency of the template %(template)s: templates shared "
                        "by every agency are changed by administrators only.",
                        template=template.display_name,
                    )
                )

    def _insurance_unlink_in_use(self):
        """A template a rule, bulk send or task reminder sends with is not
        deleted (the sender would be left without a text): archive it instead."""
        for template in self:
            senders = template._insurance_senders()
            if senders:
                names = ", ".join(sender.display_name for found in senders for sender in found[:5])
                raise UserError(
                    self.env._(
                        "The template %(template)s cannot be deleted: %(senders)s send with "
                        "it. Choose another template there first, or archive this one.",
                        template=template.display_name,
                        senders=names,
                    )
                )

    def _insurance_check_senders_still_fit(self):
        """A template changed under its senders (another model) is refused."""
        for template in self:
            for senders in template._insurance_senders():
                if hasattr(senders, "_check_one_template"):
                    for sender in senders:
                        sender._check_one_template(template)

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


class InsuranceTemplatePlaceholderHelpers(models.AbstractModel):
    """The placeholder assistant's expression for insurance models: amounts and
    dates come formatted (``312.5`` is not what a client should read), in the
    helpers the placeholder check allows."""

    _inherit = "insurance.template.check"

    @api.model
    def _insurance_build_expression(self, model, field_name, sub_field_name, null_value):
        """``{{ format_amount(...) }}`` / ``{{ format_date(...) }}`` for a
        monetary or date field of an insurance model, else None (stock)."""
        if not (model and model.startswith("insurance.") and model in self.env and field_name):
            return None
        Model = self.env[model]
        field = Model._fields.get(field_name)
        path = f"object.{field_name}"
        if field and sub_field_name:
            if field.type != "many2one":
                return None
            path += f".{sub_field_name}"
            owner_path, field = (
                f"object.{field_name}",
                self.env[field.comodel_name]._fields.get(sub_field_name),
            )
        else:
            owner_path = "object"
        if not field:
            return None
        if field.type == "monetary":
            currency = field.get_currency_field(self.env[field.model_name])
            call = f"format_amount({path}, {owner_path}.{currency})" if currency else None
        elif field.type == "date":
            call = f"format_date({path})"
        elif field.type == "datetime":
            call = f"format_datetime({path})"
        else:
            call = None
        if not call:
            return None
        # ||| applies to the whole expression: an empty date shows the default.
        default = f" ||| {null_value}" if null_value else ""
        return "{{ " + call + default + " }}"

    def _insurance_format_picked(self, text):
        """``text`` with what the field picker just inserted (its own
        ``{{object.path}}`` form, without spaces: Odoo 18's picker builds it in
        the browser, not with ``_build_expression``) formatted through
        ``_build_expression`` when it is an amount or a date."""
        if not text or "{{object." not in text:
            return text

        def replace(match):
            path, default = match.group(1), match.group(2) or ""
            field_name, _dot, sub_field_name = path.partition(".")
            if "." in sub_field_name:
                return match.group(0)
            built = self._build_expression(field_name, sub_field_name, default.strip())
            return built or match.group(0)

        return PICKED.sub(replace, text)
