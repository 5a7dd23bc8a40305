from . import controllers
from . import tools
from . import models
from . import wizards


def uninstall_hook(env):
    """The function reading consent end dates goes with the add-on (with the
    per-agency indexes built on it, whose column goes too), and so do the
    effectiveness report's kept totals and the triggers that keep them."""
    from .models import insurance_notify_effectiveness_summary as totals
    from .models.res_partner import CONSENT_DATE_FUNCTION

    env.cr.execute(f"DROP FUNCTION IF EXISTS {CONSENT_DATE_FUNCTION}(text) CASCADE")
    env.cr.execute(
        f"DROP FUNCTION IF EXISTS {totals.TRACK_FUNCTION}() CASCADE;"
        f" DROP TABLE IF EXISTS {totals.STORE_TABLE}, {totals.DELTA_TABLE}"
    )
