"""Opt-out: clients' SMS replies (STOP) and e-mail unsubscribe links."""

import logging

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from .main import WEBHOOK, gateway_or_404, text_response, twilio_form_or_403, webhook

_logger = logging.getLogger(__name__)


class InsuranceNotifyOptOut(http.Controller):
    # ------------------------------------------------------------------
    # Inbound SMS
    # ------------------------------------------------------------------

    def _inbound(self, gateway, params):
        inbound = gateway._make_adapter().parse_inbound(params)
        opted_out = gateway._apply_inbound(inbound)
        _logger.info(
            "%s inbound messages: %s, opt-outs: %s", gateway.provider, len(inbound), opted_out
        )

    @http.route(
        "/insurance_notify/inbound/smsapi/<string:secret>", methods=["GET", "POST"], **WEBHOOK
    )
    @webhook
    def smsapi_inbound(self, secret, **params):
        self._inbound(gateway_or_404("smsapi", secret, "inbound message"), params)
        return text_response()

    @http.route("/insurance_notify/inbound/twilio/<string:secret>", methods=["POST"], **WEBHOOK)
    @webhook
    def twilio_inbound(self, secret, **_params):
        gateway = gateway_or_404("twilio", secret, "inbound message")
        form = twilio_form_or_403(gateway, gateway.sudo().inbound_url, "inbound message")
        self._inbound(gateway, form)
        # Empty TwiML: no automatic answer from us (Twilio confirms STOP itself).
        return text_response("<Response/>", content_type="text/xml")

    # ------------------------------------------------------------------
    # E-mail unsubscribe
    # ------------------------------------------------------------------

    @http.route(
        "/insurance_notify/unsubscribe/<int:partner_id>/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def unsubscribe(self, partner_id, token, **_params):
        found = request.env["res.partner"]._insurance_unsubscribe_check(partner_id, token)
        if not found:
            _logger.warning("Unsubscribe link refused: its signature does not match")
            raise NotFound()
        partner, email = found
        env = request.env
        if request.httprequest.method == "GET":
            # Mail scanners open links: only the button (a POST) unsubscribes.
            return self._page(
                env._("Unsubscribe"),
                env._("Stop e-mails from us to %(email)s?", email=email),
                button=env._("Unsubscribe"),
            )
        partner._insurance_unsubscribe(email)
        return self._page(
            env._("You are unsubscribed"),
            env._("We will send no more e-mails to %(email)s.", email=email),
        )

    def _page(self, title, text, button=None):
        """The unsubscribe screen (views/insurance_unsubscribe_templates.xml)."""
        return request.render(
            "insurance_notify.unsubscribe_page",
            {"title": title, "text": text, "button": button, "lang": request.env.lang},
        )
