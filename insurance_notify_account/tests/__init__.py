# Odoo runs the tests its add-on imports here (OCA and runbot: --test-enable).
from . import test_invoice_reminders
from . import test_invoice_tour
from . import test_invoice_outcomes
from . import test_event_sources
from . import test_invoice_labels
