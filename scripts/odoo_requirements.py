"""Print Odoo's requirements as pins installable from wheels on this Python.

Odoo 18's requirements.txt pins old, source-only versions for Python 3.11
(cbor2 5.4.2 does not build); its Python 3.12 pins all ship wheels for 3.11
too, so we evaluate the markers as if on 3.12. python-ldap is left out: only
``auth_ldap`` needs it and it wants the LDAP headers. psycopg2 comes as the
binary wheel of the same version so no libpq headers are needed.
"""

import sys

from packaging.markers import default_environment
from packaging.requirements import Requirement

SKIPPED = {"python-ldap", "pypiwin32", "rl-renderpm"}
RENAMED = {"psycopg2": "psycopg2-binary"}


def wheel_pins(path):
    environment = default_environment()
    environment.update(python_version="3.12", python_full_version="3.12.0")
    with open(path, encoding="utf-8") as requirements:
        for line in requirements:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            name = requirement.name.lower()
            if name in SKIPPED:
                continue
            yield f"{RENAMED.get(name, requirement.name)}{requirement.specifier}"


if __name__ == "__main__":
    print("\n".join(wheel_pins(sys.argv[1])))
