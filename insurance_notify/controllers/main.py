"""Delivery-report webhooks: one public address per gateway, guarded by its secret."""

import functools
import logging
import re
import threading

from werkzeug.exceptions import Forbidden, HTTPException, NotFound

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

# Our webhook addresses end with the gateway's secret: whoever reads a log
# line with it could post reports and STOPs. Access logs keep the route only.
WEBHOOK_SECRET = re.compile(
    r"(/insurance_notify/(?:(?:dlr|inbound)/[A-Za-z0-9_]+|whatsapp)/)[^\s/?\"]+"
)
MASK = "***"
# What every webhook route is: public, called by a provider (no CSRF token,
# no session cookie to keep).
WEBHOOK = {"type": "http", "auth": "public", "csrf": False, "save_session": False}


def mask_webhook_secrets(text):
    return WEBHOOK_SECRET.sub(lambda match: match.group(1) + MASK, text)


class WebhookSecretFilter(logging.Filter):
    """Masks the secret segment of our webhook routes in the log records of
    one request: those of its thread, from the moment its route starts until
    werkzeug closes its response (the access line is written just before).

    Attached per request, never at import: the loggers of a server with no
    webhook call carry no filter of ours. A request that fails unexpectedly
    keeps its filter until a later webhook request finds its thread gone."""

    LOGGERS = ("werkzeug", "odoo.http")

    def __init__(self, thread_id):
        super().__init__()
        self.thread_id = thread_id

    @classmethod
    def attached(cls):
        """The filters of ours on the loggers now."""
        return [f for f in logging.getLogger(cls.LOGGERS[0]).filters if isinstance(f, cls)]

    @classmethod
    def attach(cls):
        """This thread's filter, attached (once, whatever the retries)."""
        thread_id = threading.get_ident()
        alive = {thread.ident for thread in threading.enumerate()}
        mine = None
        for log_filter in cls.attached():
            if log_filter.thread_id == thread_id:
                mine = log_filter
            elif log_filter.thread_id not in alive:
                log_filter.detach()
        if mine is None:
            mine = cls(thread_id)
            for name in cls.LOGGERS:
                logging.getLogger(name).addFilter(mine)
        return mine

    def detach(self):
        for name in self.LOGGERS:
            logging.getLogger(name).removeFilter(self)

    def filter(self, record):
        if record.thread != self.thread_id:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is left to the handler
            return True
        if "/insurance_notify/" in message:
            record.msg, record.args = mask_webhook_secrets(message), ()
        return True


def webhook(route):
    """A webhook route whose address holds a secret: its log lines are masked
    (see WebhookSecretFilter), and its refusals (404, 403) are answered like
    its responses, so the filter leaves with the answer."""

    @functools.wraps(route)
    def masked(*args, **kwargs):
        log_filter = WebhookSecretFilter.attach()
        try:
            response = route(*args, **kwargs)
        except HTTPException as refusal:
            # Refused before anything was written: nothing to roll back.
            response = refusal.get_response()
        response.call_on_close(log_filter.detach)
        return response

    return masked


def text_response(body="OK", status=200, content_type="text/plain"):
    return request.make_response(body, headers=[("Content-Type", content_type)], status=status)


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

    @http.route("/insurance_notify/dlr/smsapi/<string:secret>", methods=["GET", "POST"], **WEBHOOK)
    @webhook
    def smsapi_report(self, secret, **params):
        self._apply(gateway_or_404("smsapi", secret), params)
        return text_response()

    @http.route("/insurance_notify/dlr/twilio/<string:secret>", methods=["POST"], **WEBHOOK)
    @webhook
    def twilio_report(self, secret, **_params):
        gateway = gateway_or_404("twilio", secret)
        form = twilio_form_or_403(gateway, gateway._delivery_report_url(), "delivery report")
        self._apply(gateway, form)
        return text_response("", status=204)
