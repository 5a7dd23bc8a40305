"""Placeholders compiled, and values formatted, once per run of many texts
(dry run, dispatch)."""

import contextlib
import contextvars

from odoo.tools import safe_eval as safe_eval_module

# safe_eval compiles and checks each placeholder again for every record: on a
# day of thousands of reminders that was most of the rendering. While a dry run
# or a dispatcher chunk renders (``with compile_once():``), the same expression
# is compiled once; the check is a pure function of the expression, so the
# result is the one safe_eval would compute. Outside such a run it passes
# straight through (the module attribute is shared by every database).
_COMPILED = contextvars.ContextVar("insurance_notify_compiled", default=None)
_test_expr = safe_eval_module.test_expr


def _test_expr_once(expr, allowed_codes, mode="eval", filename=None):
    compiled = _COMPILED.get()
    if compiled is None or not isinstance(expr, str):
        return _test_expr(expr, allowed_codes, mode=mode, filename=filename)
    key = (expr, frozenset(allowed_codes), mode, filename)
    if key not in compiled:
        compiled[key] = _test_expr(expr, allowed_codes, mode=mode, filename=filename)
    return compiled[key]


safe_eval_module.test_expr = _test_expr_once

# The templates' format_date, format_amount... are pure functions of their
# arguments and of the rendering's language, timezone, user and company, and
# babel makes each call cost more than the rest of the placeholder: a day's
# reminders mostly share their dates. While a run renders, each value is
# formatted once (see ``mail.render.mixin._render_eval_context``).
_FORMATTED = contextvars.ContextVar("insurance_notify_formatted", default=None)


def formatted_once(key, format_value):
    """``format_value()``, or what it gave for ``key`` earlier in this run."""
    formatted = _FORMATTED.get()
    if formatted is None:
        return format_value()
    try:
        return formatted[key]
    except KeyError:
        value = formatted[key] = format_value()
        return value
    except TypeError:  # an unhashable argument: not kept
        return format_value()


def in_run():
    return _FORMATTED.get() is not None


def format_scope(env):
    """What a formatted value depends on besides its arguments."""
    context = env.context
    return (context.get("lang"), context.get("tz"), env.uid, env.company.id)


def format_once(env, format_value, *args):
    """``format_value(env, *args)`` (Odoo's format_date, format_amount...),
    once per run for the same arguments and scope."""
    if not in_run():
        return format_value(env, *args)
    key = (format_value.__name__, format_scope(env), args)
    return formatted_once(key, lambda: format_value(env, *args))


@contextlib.contextmanager
def compile_once():
    compiled = _COMPILED.set({})
    formatted = _FORMATTED.set({})
    try:
        yield
    finally:
        _FORMATTED.reset(formatted)
        _COMPILED.reset(compiled)
