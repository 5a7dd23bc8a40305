"""Refusals of out-of-bounds values typed in forms, sent over RPC or imported.

The bounds are the pure core's (notify_engine.bounds); here they become
messages in the user's language, raised before the ORM converts a value (a
premium of 1e308 would otherwise end in an untranslated OverflowError while
the currency rounds it). Not a model: helpers the models' create and write call.
"""

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tools.misc import format_date

from ..lib.notify_engine import bounds


def _label(model, name):
    return model._fields[name]._description_string(model.env)


def check_amount(model, name, value, record_name):
    """Refuse an amount that is no number or is absurdly large (negative amounts
    are each model's own constraint)."""
    problem = bounds.amount_problem(value)
    if problem == bounds.NOT_A_NUMBER:
        raise ValidationError(
            model.env._(
                "%(field)s of %(record)s must be a number, not “%(value)s”.",
                field=_label(model, name),
                record=record_name,
                value=value,
            )
        )
    if problem == bounds.TOO_LARGE:
        # Formatted before the call: Odoo's term extraction (Babel) cannot read
        # an f-string among the arguments and would skip this file's terms.
        shown, limit = f"{float(value):g}", f"{bounds.MAX_AMOUNT:,.0f}"
        raise ValidationError(
            model.env._(
                "%(field)s of %(record)s is too large (%(value)s): enter at most %(limit)s.",
                field=_label(model, name),
                record=record_name,
                value=shown,
                limit=limit,
            )
        )


def check_length(model, name, value, limit=bounds.MAX_NUMBER_LENGTH):
    if bounds.length_problem(value, limit):
        raise ValidationError(
            model.env._(
                "%(field)s is too long (%(length)s characters): at most %(limit)s.",
                field=_label(model, name),
                length=len(value),
                limit=limit,
            )
        )


def check_date(model, name, value, record_name, future=True):
    """Refuse a date before 1900, more than a century ahead, or (``future=False``,
    a birth date) after today."""
    try:
        day = fields.Date.to_date(value)
    except (TypeError, ValueError):
        return  # not a date at all: the ORM names it
    today = fields.Date.context_today(model)
    problem = bounds.date_problem(day, today, future=future)
    if not problem:
        return
    values = {
        "field": _label(model, name),
        "record": record_name,
        "date": format_date(model.env, day) if day.year >= 1000 else str(day),
    }
    if problem == bounds.IN_FUTURE:
        message = model.env._(
            "%(field)s of %(record)s cannot be in the future (%(date)s).", **values
        )
    elif problem == bounds.TOO_EARLY:
        message = model.env._(
            "%(field)s of %(record)s is too far in the past (%(date)s): enter a date from 1900 on.",
            **values,
        )
    else:
        message = model.env._(
            "%(field)s of %(record)s is too far ahead (%(date)s): enter a date before %(limit)s.",
            limit=format_date(model.env, bounds.latest_date(today)),
            **values,
        )
    raise ValidationError(message)
