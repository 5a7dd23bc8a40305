from . import insurance_product
from . import res_partner
from . import insurance_policy
from . import insurance_notify_gateway
from . import insurance_notify_rule
from . import insurance_notify_message
