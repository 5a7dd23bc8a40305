"""What a placeholder written by broker staff may contain.

Odoo evaluates a template's ``{{ … }}`` and ``t-out`` expressions as Python
(``safe_eval``): whoever may write them may call any method reachable from the
record — ``object.env.ref(...).sudo().write(...)`` — which is why Odoo keeps
that right for the template editors (administrators). Broker staff write
texts, not programs: their placeholders are *paths* — ``object.policy_id.name``
— glued with the little a text needs (``or``, ``and``, ``not``, ``+`` of texts,
a constant, ``[:1]`` of a list), and the formatting helpers of the rendering
context (``format_date(object.date_end)``). Nothing else: no other call, no
``env``/``sudo``, no name starting with ``_``, no comprehension, no lambda.

This module decides that on the expression alone; whether each path names
fields the author may read is the add-on's business (it needs the database).
"""

import ast
from collections import namedtuple

# The formatting helpers of ``mail.render.mixin._render_eval_context``.
HELPERS = frozenset(
    {"format_date", "format_datetime", "format_time", "format_amount", "format_duration"}
)
# The records a path may start from: the document, and the user rendering it.
ROOTS = frozenset({"object", "user"})

# Reach the environment whatever the model: refused even before the add-on
# looks for a field of that name.
UNSAFE_ATTRIBUTES = frozenset(
    {"env", "sudo", "with_user", "with_env", "with_context", "with_company", "pool", "browse"}
)

# Why an expression is refused (codes; the add-on words them).
SYNTAX = "syntax"
UNSAFE = "unsafe"
CALL = "call"
PRIVATE = "private"
NAME = "name"
CONSTRUCT = "construct"

Verdict = namedtuple("Verdict", "problem detail paths")
# ``problem``: None when allowed, else one of the codes above; ``detail``: the
# offending piece (a name, a call); ``paths``: (root, [attr, …]) of every path.

_BOOL_CONSTANTS = (str, int, float, bool, type(None))


def check(expression):
    """The Verdict on one placeholder expression (the text of ``{{ … }}``
    without its ``||| default``, or of a ``t-out``)."""
    source = (expression or "").split("|||")[0].strip()
    if not source:
        return Verdict(None, None, [])
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        return Verdict(SYNTAX, error.msg, [])
    paths = []
    try:
        _reaches_inside(tree)
        _visit(tree.body, paths)
    except _Refused as refused:
        return Verdict(refused.problem, refused.detail, paths)
    return Verdict(None, None, paths)


class _Refused(Exception):
    def __init__(self, problem, detail):
        super().__init__(problem, detail)
        self.problem = problem
        self.detail = detail


def _reaches_inside(tree):
    """The worst first: a private name or the environment anywhere."""
    for node in ast.walk(tree):
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if isinstance(name, str) and name.startswith("_"):
            raise _Refused(PRIVATE, name)
        if isinstance(node, ast.Attribute) and name in UNSAFE_ATTRIBUTES:
            raise _Refused(UNSAFE, name)


def _visit(node, paths):
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, _BOOL_CONSTANTS):
            raise _Refused(CONSTRUCT, repr(node.value))
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _visit(value, paths)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _visit(node.operand, paths)
        return
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        # Joining texts: ' (' + object.partner_id.name + ')'.
        _visit(node.left, paths)
        _visit(node.right, paths)
        return
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in HELPERS):
            raise _Refused(CALL, _name_of(node.func))
        for arg in node.args:
            _visit(arg, paths)
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _Refused(CONSTRUCT, "**")
            _visit(keyword.value, paths)
        return
    if isinstance(node, ast.Attribute | ast.Subscript | ast.Name):
        paths.extend(_paths(node))
        return
    raise _Refused(CONSTRUCT, type(node).__name__)


def _paths(node):
    """[(root, [attr, …])] of ``object.a.b[:1].c``, or of each side of
    ``(object.company_id or user.company_id).name``; refuses anything else."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            # The first record of a list (object.user_ids[:1]): constant
            # bounds only, no step.
            _constant_index(node.slice)
            node = node.value
        else:
            break
    names.reverse()
    if isinstance(node, ast.BoolOp):
        return [(root, chain + names) for value in node.values for root, chain in _paths(value)]
    if isinstance(node, ast.Call):
        raise _Refused(CALL, _name_of(node.func))
    if not isinstance(node, ast.Name):
        raise _Refused(CONSTRUCT, type(node).__name__)
    if node.id not in ROOTS:
        raise _Refused(NAME, node.id)
    return [(node.id, names)]


def _constant_index(node):
    def small_int(part):
        return part is None or (
            isinstance(part, ast.Constant) and type(part.value) is int and abs(part.value) < 100
        )

    if isinstance(node, ast.Slice) and node.step is None:
        if small_int(node.lower) and small_int(node.upper):
            return
    elif small_int(node) and node is not None:
        return
    raise _Refused(CONSTRUCT, "[…]")


def _name_of(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return type(node).__name__
