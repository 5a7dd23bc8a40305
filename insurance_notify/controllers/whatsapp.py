"""Meta's WhatsApp webhook: one address per gateway, ending with its secret.

``GET`` is Meta's check of the address (echo ``hub.challenge`` when
``hub.verify_token`` is the gateway's); ``POST`` carries statuses and
clients' messages, signed with the app secret: an unsigned or wrongly signed
notification is refused (403) before anything is read or recorded.
"""

import json
import logging

from werkzeug.exceptions import BadRequest, Forbidden

from odoo import http
from odoo.http import request

from ..lib.notify_engine.gateways.whatsapp import signature_ok, verify_subscription
from .main import WEBHOOK, gateway_or_404, webhook

_logger = logging.getLogger(__name__)


class InsuranceNotifyWhatsapp(http.Controller):
    @http.route("/insurance_notify/whatsapp/<string:secret>", methods=["GET", "POST"], **WEBHOOK)
    @webhook
    def whatsapp_webhook(self, secret, **_params):
        gateway = gateway_or_404("whatsapp", secret, "webhook")
        settings = gateway.sudo()
        if request.httprequest.method == "GET":
            challenge = verify_subscription(
                request.httprequest.args, settings.whatsapp_verify_token or ""
            )
            if challenge is None:
                _logger.warning("WhatsApp subscription check refused: it did not repeat our value")
                raise Forbidden()
            return request.make_response(challenge, headers=[("Content-Type", "text/plain")])
        raw = request.httprequest.get_data()
        signature = request.httprequest.headers.get("X-Hub-Signature-256")
        if not signature_ok(raw, signature, settings.whatsapp_app_secret or ""):
            _logger.warning("WhatsApp notification with a bad signature refused")
            raise Forbidden()
        try:
            payload = json.loads(raw)
        except ValueError:
            raise BadRequest() from None
        adapter = settings._make_adapter()
        reports = adapter.parse_delivery_report(payload)
        inbound = adapter.parse_inbound(payload)
        if reports:
            gateway._apply_delivery_reports(reports)
        if inbound:
            gateway._apply_inbound(inbound)
        _logger.info("WhatsApp notification: %s statuses, %s messages", len(reports), len(inbound))
        # Meta resends anything not answered 200, for days: a status of a
        # message we do not know is answered too.
        return request.make_response("OK", headers=[("Content-Type", "text/plain")])
