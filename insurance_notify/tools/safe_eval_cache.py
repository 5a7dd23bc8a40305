"""Placeholders compiled once per run of many texts (dry run, dispatch)."""

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


@contextlib.contextmanager
def compile_once():
    token = _COMPILED.set({})
    try:
        yield
    finally:
        _COMPILED.reset(token)
