"""Opt-out: clients' SMS replies (STOP) and e-mail unsubscribe links."""

import logging

from markupsafe import Markup
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from .main import gateway_or_404, twilio_form_or_403

_logger = logging.getLogger(__name__)

PAGE = Markup(
    """<!DOCTYPE html>
<html><head><meta charset="utf-8"/><meta name="viewport" content="width=device-width"/>
<title>%(title)s</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto;">
<h1>%(title)s</h1><p>%(text)s</p>%(form)s</body></html>"""
)


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
        "/insurance_notify/inbound/smsapi/<string:secret>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def smsapi_inbound(self, secret, **params):
        gateway = gateway_or_404("smsapi", secret, "inbound message")
        self._inbound(gateway, params)
        return request.make_response("OK", headers=[("Content-Type", "text/plain")])

    @http.route(
        "/insurance_notify/inbound/twilio/<string:secret>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def twilio_inbound(self, secret, **_params):
        gateway = gateway_or_404("twilio", secret, "inbound message")
        form = twilio_form_or_403(gateway, gateway.sudo().inbound_url, "inbound message")
        self._inbound(gateway, form)
        # Empty TwiML: no automatic answer from us (Twilio confirms STOP itself).
        return request.make_response(
            "<Response/>", headers=[("Content-Type", "text/xml")], status=200
        )

    # ------------------------------------------------------------------
    # E-mail unsubscribe
    # ------------------------------------------------------------------

    def _page(self, title, text, form=""):
        html = PAGE % {"title": title, "text": text, "form": form}
        return request.make_response(html, headers=[("Content-Type", "text/html; charset=utf-8")])

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
            form = Markup(
                '<form method="post"><button type="submit" style="font-size: 1.1em;">'
                "%s</button></form>"
            ) % env._("Unsubscribe")
            return self._page(
                env._("Unsubscribe"),
                env._("Stop e-mails from us to %(email)s?", email=email),
                form,
            )
        partner._insurance_unsubscribe(email)
        return self._page(
            env._("You are unsubscribed"),
            env._("We will send no more e-mails to %(email)s.", email=email),
        )
