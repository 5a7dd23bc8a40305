# ruff: noqa: F401, I001
from . import account_chart_template
from . import account_move
from . import account_move_line
from . import insurance_notify_batch
from . import insurance_notify_message
from . import insurance_notify_rule
from . import insurance_notify_sender
