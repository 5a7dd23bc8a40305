from odoo import models


class IrCron(models.Model):
    _inherit = "ir.cron"

    def method_direct_trigger(self):
        """*Run Manually* on the send job says what it did not send and when it
        will: outside the sending hours nothing leaves, and silence misleads."""
        result = super().method_direct_trigger()
        if self != self.env.ref("insurance_notify.ir_cron_dispatch_notifications", False):
            return result
        return self.env["insurance.notify.message"]._waiting_notification() or result
