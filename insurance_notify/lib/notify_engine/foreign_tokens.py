"""Tokens of other programs in a template text, found while it is typed.

Our renderer knows only ``{{ ... }}`` placeholders: a ``[%1%]`` from a
mass-mailing tool, a ``{1}`` or ``{{1}}`` from a WhatsApp or gateway template,
a ``%s`` from a script or a ``<<name>>`` from a letter merge is sent to the
client as it is. The template form warns about them before saving (the save
itself refuses only the ones the placeholder check knows, see
``insurance.template.check``); this module only finds them.
"""

import re

_PATTERNS = (
    # [%1%], [%name%]
    re.compile(r"\[%\s*[\w.\-]+\s*%\]"),
    # {{1}}, {{ 2 }}: numbered parameters of WhatsApp / gateway templates
    re.compile(r"\{\{\s*\d+\s*\}\}"),
    # {1}, {name}, {policy.no}: single braces, not part of {{ }}
    re.compile(r"(?<!\{)\{\s*[\w.\-]+\s*\}(?!\})"),
    # <<name>>, «name»: letter merges
    re.compile(r"<<\s*[\w.\- ]+?\s*>>|«\s*[\w.\- ]+?\s*»"),
    # <NR_POLISY>
    re.compile(r"<[A-Z][A-Z0-9_]{1,40}>"),
    # %s, %d, %(name)s, %1, %1$s, %NAME%
    re.compile(r"%\(\w+\)[sd]|%\d+\$?[sd]?(?![\w%])|%[sd](?![A-Za-z])|%[A-Za-z_]\w*%"),
)


def find(text: str) -> list[str]:
    """The distinct foreign tokens of ``text``, in the order they appear."""
    if not text:
        return []
    found = []
    for pattern in _PATTERNS:
        found += [(match.start(), match.group()) for match in pattern.finditer(text)]
    tokens = []
    for _start, token in sorted(found):
        if token not in tokens:
            tokens.append(token)
    return tokens
