from . import controllers
from . import tools
from . import models
from . import wizards


def uninstall_hook(env):
    """The function reading consent end dates goes with the add-on (with the
    per-agency indexes built on it, whose column goes too)."""
    from .models.res_partner import CONSENT_DATE_FUNCTION

    env.cr.execute(f"DROP FUNCTION IF EXISTS {CONSENT_DATE_FUNCTION}(text) CASCADE")
