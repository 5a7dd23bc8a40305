"""Delivery reports: sent messages become delivered or failed."""

from odoo import api, models


class InsuranceNotifyMessage(models.Model):
    _inherit = "insurance.notify.message"

    # ------------------------------------------------------------------
    # Delivery reports
    # ------------------------------------------------------------------

    @api.model
    def _apply_delivery_reports(self, gateway, reports):
        """Move sent messages to delivered or failed; return the reports naming none.

        Idempotent: a message already delivered or failed keeps its state, and a
        report saying "still on its way" changes nothing.
        """
        unmatched = []
        for report in reports:
            domain = [("gateway_id", "=", gateway.id), ("channel", "=", "sms")]
            if report.provider_ref:
                domain.append(("provider_ref", "=", report.provider_ref))
            elif report.key:
                domain.append(("key", "=", report.key))
            else:
                unmatched.append(report)
                continue
            message = self.sudo().search(domain, limit=1)
            if not message and report.key and report.provider_ref:
                # The answer to the send was lost, so the id was never stored.
                message = self.sudo().search(
                    [("gateway_id", "=", gateway.id), ("key", "=", report.key)], limit=1
                )
            if not message:
                unmatched.append(report)
                continue
            if message.state not in ("sent", "sending") or report.state == "sent":
                continue
            vals = {"state": report.state}
            if report.provider_ref:
                vals["provider_ref"] = report.provider_ref
            if report.state == "failed":
                vals["reason"] = self.env._(
                    "not delivered: %(status)s", status=(report.reason or "").lower()
                )
            message.write(vals)
        return unmatched
