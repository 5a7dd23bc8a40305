from . import main
from . import opt_out
