from . import main
from . import opt_out
from . import whatsapp
