from . import sms_template_preview
from . import insurance_sms_test
