"""Delivery-report webhooks: one public address per gateway, guarded by its secret."""

import logging
import re

from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

# Our webhook addresses end with the gateway's secret: whoever reads a log
# line with it could post reports and STOPs. Access logs keep the route only.
WEBHOOK_SECRET = re.compile(
    r"(/insurance_notify/(?:(?:dlr|inbound)/[A-Za-z0-9_]+|whatsapp)/)[^\s/?\"]+"
)
MASK = "***"


def mask_webhook_secrets(text):
    return WEBHOOK_SECRET.sub(lambda match: match.group(1) + MASK, text)


class WebhookSecretFilter(logging.Filter):
    """Masks the secret segment of our webhook routes in a log record."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is left to the handler
            return True
        if "/insurance_notify/" in message:
            record.msg, record.args = mask_webhook_secrets(message), ()
        return True


def install_log_filter(logger_names=("werkzeug", "odoo.http")):
    """Idempotent: a reloaded module does not stack filters."""
    for name in logger_names:
        logger = logging.getLogger(name)
        logger.filters = [f for f in logger.filters if type(f).__name__ != "WebhookSecretFilter"]
        logger.addFilter(WebhookSecretFilter())


install_log_filter()


def gateway_or_404(provider, secret, what="delivery report"):
    """The gateway a webhook's secret names; an unknown secret is a 404."""
    gateway = request.env["insurance.notify.gateway"].sudo()._find_by_secret(provider, secret)
    if not gateway:
        _logger.warning("%s %s refused: no gateway has that address", provider, what)
        raise NotFound()
    return gateway


def twilio_form_or_403(gateway, own_url, what):
    """A Twilio callback's form, once its X-Twilio-Signature is checked; else 403."""
    adapter = gateway._make_adapter()
    form = request.httprequest.form
    signature = request.httprequest.headers.get("X-Twilio-Signature", "")
    # Twilio signs the address it was given; behind a proxy it differs from ours.
    urls = [own_url, request.httprequest.url]
    if not any(url and adapter.validate_signature(url, form, signature) for url in urls):
        _logger.warning("Twilio %s with a bad signature refused", what)
        raise Forbidden()
    return form.to_dict()


class InsuranceNotifyDeliveryReports(http.Controller):
    def _gateway(self, provider, secret):
        return gateway_or_404(provider, secret)

    def _apply(self, gateway, params):
        reports = gateway._make_adapter().parse_delivery_report(params)
        if not reports or not gateway._apply_delivery_reports(reports):
            _logger.warning(
                "%s delivery report for no known message (gateway %s)",
                gateway.provider,
                gateway.id,
            )
            raise NotFound()
        _logger.info("%s delivery reports applied: %s", gateway.provider, len(reports))

    @http.route(
        "/insurance_notify/dlr/smsapi/<string:secret>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def smsapi_report(self, secret, **params):
        gateway = self._gateway("smsapi", secret)
        self._apply(gateway, params)
        return request.make_response("OK", headers=[("Content-Type", "text/plain")])

    @http.route(
        "/insurance_notify/dlr/twilio/<string:secret>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def twilio_report(self, secret, **_params):
        gateway = self._gateway("twilio", secret)
        form = twilio_form_or_403(gateway, gateway._delivery_report_url(), "delivery report")
        self._apply(gateway, form)
        return request.make_response("", headers=[("Content-Type", "text/plain")], status=204)
