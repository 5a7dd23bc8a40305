from . import sms_template_preview
from . import insurance_sms_test
from . import insurance_notify_dry_run
from . import insurance_notify_batch_start
from . import insurance_notify_batch_start_line
from . import insurance_notify_reply_compose
from . import base_import_import
