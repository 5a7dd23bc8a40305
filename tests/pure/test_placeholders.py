"""Broker staff's placeholders: paths and formatting helpers, never code."""

import pytest

from notify_engine import placeholders as ph

ALLOWED = {
    "object.name": [("object", ["name"])],
    " object.policy_id.partner_id.name ||| brak": [("object", ["policy_id", "partner_id", "name"])],
    "format_date(object.date_end)": [("object", ["date_end"])],
    "format_amount(object.amount, object.currency_id)": [
        ("object", ["amount"]),
        ("object", ["currency_id"]),
    ],
    "format_date(object.date_end, date_format='d MMMM')": [("object", ["date_end"])],
    "object.partner_id.lang or object.company_id.partner_id.lang": [
        ("object", ["partner_id", "lang"]),
        ("object", ["company_id", "partner_id", "lang"]),
    ],
    "(object.company_id or user.company_id).partner_id.lang": [
        ("object", ["company_id", "partner_id", "lang"]),
        ("user", ["company_id", "partner_id", "lang"]),
    ],
    "object.partner_id and ' (' + object.partner_id.name + ')' or ''": [
        ("object", ["partner_id"]),
        ("object", ["partner_id", "name"]),
    ],
    "object.user_ids[:1].lang": [("object", ["user_ids", "lang"])],
    "not object.vehicle_plate": [("object", ["vehicle_plate"])],
    "user.email_formatted": [("user", ["email_formatted"])],
    "": [],
}


@pytest.mark.parametrize("expression", list(ALLOWED))
def test_paths_glue_and_helpers_are_allowed(expression):
    verdict = ph.check(expression)
    assert verdict.problem is None, verdict
    assert verdict.paths == ALLOWED[expression]


REFUSED = {
    # The payloads of the attack: code reaching the database.
    "object.env.ref('base.group_system').sudo().write({'users': [(4, user.id)]})": ph.UNSAFE,
    "object.env['ir.config_parameter'].sudo().get_param('database.secret')": ph.UNSAFE,
    "object.sudo().company_id.name": ph.UNSAFE,
    "user.sudo().password": ph.UNSAFE,
    "object.with_user(1).name": ph.UNSAFE,
    "object.__class__.__init__.__globals__": ph.PRIVATE,
    "object._cr": ph.PRIVATE,
    "object.partner_id.name.split(' ')[0]": ph.CALL,
    "object.mapped('name')": ph.CALL,
    "len(object.name)": ph.CALL,
    "ctx.get('x')": ph.CALL,
    "ctx": ph.NAME,
    "env.user": ph.NAME,
    "[p.name for p in object.partner_id]": ph.CONSTRUCT,
    "(lambda: 1)()": ph.CALL,
    "object.name if object else ''": ph.CONSTRUCT,
    "object.name[::-1]": ph.CONSTRUCT,
    "object.name[object.id]": ph.CONSTRUCT,
    "'%s' % object.name": ph.CONSTRUCT,
    "format_date(**{'x': 1})": ph.CONSTRUCT,
    "(object.name + 'x').upper": ph.CONSTRUCT,
    "(object.company_id or ctx).name": ph.NAME,
    "object.name +": ph.SYNTAX,
}


@pytest.mark.parametrize("expression", list(REFUSED))
def test_code_is_refused_with_its_reason(expression):
    assert ph.check(expression).problem == REFUSED[expression]


def test_the_refusal_names_the_offending_piece():
    assert ph.check("object.env.ref('x')").detail == "env"
    assert ph.check("object.name.split(' ')").detail == "split"
