import logging

from odoo import fields, models
from odoo.osv import expression

from ..lib.notify_engine import phone
from ..lib.notify_engine.gateways import OutgoingSms, base

_logger = logging.getLogger(__name__)

# notify_engine error classes -> sms.sms failure types ("unknown" keeps the text).
FAILURE_TYPES = {
    base.INVALID_NUMBER: "sms_number_format",
    base.CREDITS: "sms_credit",
    base.AUTHORIZATION: "sms_acc",
    base.SENDER: "sms_acc",
    base.RATE_LIMIT: "sms_server",
    base.NETWORK: "sms_server",
    base.PROVIDER: "sms_server",
    base.OPTED_OUT: "sms_optout",
}


class SmsSms(models.Model):
    """Stock Odoo SMS (chatter, composer, automated actions) leave through
    IAP, as without this app, unless an administrator chose one of our gateways
    for the company in the settings (``res.company.insurance_stock_sms_gateway_id``)."""

    _inherit = "sms.sms"

    provider_ref = fields.Char(string="Provider ID", index="btree_not_null", readonly=True)

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        gateway = self.env.company._insurance_stock_sms_gateway()
        if not gateway:
            return super()._send(
                unlink_failed=unlink_failed,
                unlink_sent=unlink_sent,
                raise_exception=raise_exception,
            )
        return self._send_through_gateway(gateway, unlink_failed, unlink_sent, raise_exception)

    def _send_through_gateway(self, gateway, unlink_failed, unlink_sent, raise_exception):
        region = self.env.company.country_id.code
        outgoing, unusable = [], self.browse()
        for record in self:
            country = record.partner_id.country_id.code or region
            try:
                number = phone.normalize(record.number or "", country)
            except phone.InvalidPhone:
                number = ""
            if not number:
                unusable |= record
                continue
            outgoing.append(
                (
                    record,
                    OutgoingSms(
                        key=record.uuid,
                        number=phone.for_gateway(number, gateway.provider),
                        body=record.body or "",
                        sender=gateway.sender or None,
                    ),
                )
            )
        try:
            with gateway._make_adapter() as adapter:
                results = adapter.send([sms for _record, sms in outgoing])
        except Exception:
            _logger.warning("Sending %s SMS through gateway %s failed", len(outgoing), gateway.id)
            if raise_exception:
                raise
            results = [base.SendResult.failure(sms.key, base.PROVIDER) for _r, sms in outgoing]

        records = self.sudo().with_context(sms_skip_msg_notification=True)
        if unusable:
            unusable = unusable.sudo().with_context(sms_skip_msg_notification=True)
            unusable.sms_tracker_id._action_update_from_sms_state(
                "error", failure_type="sms_number_format"
            )
            unusable.write(
                {
                    "state": "error",
                    "failure_type": "sms_number_format",
                    **({"to_delete": True} if unlink_failed else {}),
                }
            )
        sandbox_reason = self.env._("Sandbox (not sent)")
        for (record, _sms), result in zip(outgoing, results, strict=True):
            record = record.sudo().with_context(sms_skip_msg_notification=True)
            if result.accepted and gateway.provider == "sandbox":
                # Kept by the sandbox, never sent: the chatter (and a mailing's
                # trace) says so instead of showing it as sent.
                record.sms_tracker_id._action_update_from_sms_state(
                    "canceled", failure_type="unknown", failure_reason=sandbox_reason
                )
                record.write(
                    {
                        "state": "canceled",
                        "failure_type": "unknown",
                        "provider_ref": result.provider_ref,
                        **({"to_delete": True} if unlink_failed else {}),
                    }
                )
                continue
            if result.accepted:
                record.sms_tracker_id._action_update_from_sms_state("pending")
                if record.sms_tracker_id:
                    record.sms_tracker_id.write(
                        {"provider_ref": result.provider_ref, "insurance_gateway_id": gateway.id}
                    )
                record.write(
                    {
                        "state": "pending",
                        "failure_type": False,
                        "provider_ref": result.provider_ref,
                        **({"to_delete": True} if unlink_sent else {}),
                    }
                )
                continue
            failure_type = FAILURE_TYPES.get(result.error_class, "unknown")
            reason = result.error_text or result.error_class
            record.sms_tracker_id._update_sms_notifications(
                "exception",
                failure_type=failure_type,
                failure_reason=reason if failure_type == "unknown" else False,
            )
            record.write(
                {
                    "state": "error",
                    "failure_type": failure_type,
                    **({"to_delete": True} if unlink_failed else {}),
                }
            )
        _logger.info("Sent %s SMS through gateway %s", len(outgoing), gateway.id)
        records.mail_message_id._notify_message_notification_update()

    def _apply_delivery_reports(self, reports, gateway=None):
        """Update stock SMS and their notifications from provider reports of
        ``gateway`` (only what it sent); return the number of reports that named
        one of them. Two queries, however many reports."""
        Tracker = self.env["sms.tracker"].sudo()
        refs = [report.provider_ref for report in reports if report.provider_ref]
        keys = [report.key for report in reports if report.key]
        if not (refs or keys):
            return 0
        scope = [("insurance_gateway_id", "in", [gateway.id, False])] if gateway else []
        trackers = Tracker.search(
            expression.AND([scope, ["|", ("provider_ref", "in", refs), ("sms_uuid", "in", keys)]])
        )
        records = self.sudo().search(["|", ("provider_ref", "in", refs), ("uuid", "in", keys)])
        if gateway:
            # An SMS still here is only this gateway's if its tracker says so.
            records = records.filtered(
                lambda r: not r.sms_tracker_id or r.sms_tracker_id in trackers
            )
        found = 0
        for report in reports:
            mine_trackers = trackers.filtered(
                lambda t, r=report: (
                    (r.provider_ref and t.provider_ref == r.provider_ref)
                    or (r.key and t.sms_uuid == r.key)
                )
            )
            mine = records.filtered(
                lambda s, r=report: (
                    (r.provider_ref and s.provider_ref == r.provider_ref)
                    or (r.key and s.uuid == r.key)
                )
            )
            if not mine_trackers and not mine:
                continue
            found += 1
            if report.state == base.DELIVERED:
                mine_trackers._action_update_from_sms_state("sent")
                mine.filtered(lambda r: r.state in ("pending", "process")).state = "sent"
            elif report.state == base.FAILED:
                error = _provider_error(report.reason)
                mine_trackers._action_update_from_provider_error(error)
                mine.filtered(lambda r: r.state in ("pending", "process")).write(
                    {"state": "error", "failure_type": "unknown"}
                )
        return found


def _provider_error(reason):
    """The stock delivery error a provider's failure reason stands for."""
    reason = (reason or "").lower()
    if "expired" in reason:
        return "expired"
    if "rejected" in reason:
        return "rejected"
    return "not_delivered"
