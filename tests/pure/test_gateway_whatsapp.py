"""WhatsAppGateway against a loopback server that answers like Meta's Cloud API."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from notify_engine.fakes import FakeMeta
from notify_engine.gateways import base, make_gateway
from notify_engine.gateways.base import OutgoingSms
from notify_engine.gateways.whatsapp import WhatsAppGateway, signature_ok, verify_subscription

TOKEN = "EAAGm0PX4ZCpsBA-S3CRET-token-0123456789"
PHONE_ID = "106540352242922"
SECRET = "app-s3cret-4c1d"


@pytest.fixture
def meta():
    with FakeMeta(TOKEN, PHONE_ID, SECRET) as fake:
        fake.approved = {("policy_expiry", "pl"), ("policy_expiry", "lt")}
        yield fake


@pytest.fixture
def gateway(meta):
    adapter = make_gateway(
        "whatsapp",
        access_token=TOKEN,
        phone_number_id=PHONE_ID,
        business_account_id=meta.waba_id,
        api_url=meta.url,
    )
    yield adapter
    adapter.close()


def reminder(key="policy-7:rule-3:7", number="+48600123456", language="pl"):
    return OutgoingSms(
        key=key,
        number=number,
        body="Dzień dobry Jan, polisa OC/7 kończy się 09.12.2026.",
        template="policy_expiry",
        language=language,
        params=("Jan", "OC/7", "09.12.2026"),
    )


def test_a_template_message_carries_its_name_language_parameters_and_key(meta, gateway):
    [result] = gateway.send([reminder()])
    assert result.accepted and result.provider_ref.startswith("wamid.")
    [sent] = meta.sent
    assert sent["messaging_product"] == "whatsapp"
    assert sent["to"] == "48600123456"
    assert sent["type"] == "template"
    assert sent["biz_opaque_callback_data"] == "policy-7:rule-3:7"
    assert sent["template"]["name"] == "policy_expiry"
    assert sent["template"]["language"] == {"code": "pl"}
    params = sent["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["Jan", "OC/7", "09.12.2026"]


@pytest.mark.parametrize(
    ("setup", "message", "error_class", "code"),
    [
        (lambda m: m.not_on_whatsapp.add("48600123456"), reminder(), base.INVALID_NUMBER, "131026"),
        (lambda m: None, reminder(language="de"), base.TEMPLATE, "132001"),
        (
            lambda m: None,
            OutgoingSms(key="free", number="+48600123456", body="Dzień dobry"),
            base.OUTSIDE_WINDOW,
            "131047",
        ),
    ],
)
def test_refusals_are_classed_and_not_retried(meta, gateway, setup, message, error_class, code):
    setup(meta)
    [result] = gateway.send([message])
    assert (result.error_class, result.error_code) == (error_class, code)
    assert not result.retryable and not result.outage


def test_free_text_goes_inside_the_window_the_clients_own_message_opened(meta, gateway):
    meta.inbound_webhook("+48600123456", "Tak, proszę o ofertę")
    [result] = gateway.send(
        [OutgoingSms(key="answer-1", number="+48600123456", body="Oferta jutro")]
    )
    assert result.accepted
    assert meta.sent[-1]["type"] == "text"
    assert meta.sent[-1]["text"]["body"] == "Oferta jutro"


def test_an_expired_token_stops_the_batch_and_never_reaches_a_log(meta, caplog):
    caplog.set_level(logging.DEBUG)
    adapter = WhatsAppGateway("wrong-" + TOKEN, PHONE_ID, api_url=meta.url)
    results = adapter.send([reminder(key="a"), reminder(key="b")])
    adapter.close()
    assert {r.error_class for r in results} == {base.AUTHORIZATION}
    assert results[1].not_tried
    assert TOKEN not in "\n".join(r.getMessage() for r in caplog.records)


def test_throttling_and_server_errors_are_outages(meta, gateway):
    meta.reply(429, {"error": {"code": 130429, "message": "Rate limit hit"}})
    gateway.throttle_retries = 0
    [throttled] = gateway.send([reminder()])
    assert throttled.error_class == base.RATE_LIMIT and throttled.outage
    meta.reply(503, b"upstream down")
    [down] = gateway.send([reminder()])
    assert down.error_class == base.PROVIDER and down.outage


def test_an_attempt_cut_short_is_never_resent_blindly(meta, gateway):
    meta.lose_answers = True
    gateway.timeout = (1, 0.3)
    [lost] = gateway.send([reminder()])
    assert lost.error_class == base.NETWORK
    # Meta lists no sent messages: the lookup says "wait", never "safe to send".
    since = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    [answer] = gateway.find_sent([reminder()], since)
    assert answer is not None and not answer.accepted and answer.outage
    # The status webhook names the key: that is how the message is found.
    raw, headers = meta.status_webhook(next(iter(meta.ids)), "delivered")
    [report] = gateway.parse_delivery_report(json.loads(raw))
    assert (report.key, report.state, report.number) == (
        "policy-7:rule-3:7",
        base.DELIVERED,
        "+48600123456",
    )


def test_signed_webhooks_are_checked_in_constant_time_and_forged_ones_refused(meta, gateway):
    gateway.send([reminder()])
    wamid = next(iter(meta.ids))
    raw, headers = meta.status_webhook(wamid, "read")
    assert signature_ok(raw, headers["X-Hub-Signature-256"], SECRET)
    assert not signature_ok(raw, headers["X-Hub-Signature-256"], "other-secret")
    assert not signature_ok(raw.replace(b"read", b"sent"), headers["X-Hub-Signature-256"], SECRET)
    assert not signature_ok(raw, None, SECRET)
    assert not signature_ok(raw, "sha1=abc", SECRET)
    [report] = gateway.parse_delivery_report(json.loads(raw))
    assert report.state == base.READ and report.provider_ref == wamid


def test_a_failed_status_names_metas_code(meta, gateway):
    gateway.send([reminder()])
    raw, _headers = meta.status_webhook(next(iter(meta.ids)), "failed", error_code=131026)
    [report] = gateway.parse_delivery_report(json.loads(raw))
    assert (report.state, report.reason) == (base.FAILED, "131026")


def test_inbound_messages_keep_the_clients_words_name_and_context(meta, gateway):
    raw, _headers = meta.inbound_webhook(
        "+37061200100", "Taip, atnaujinti", name="Ona", context_id="wamid.X"
    )
    [message] = gateway.parse_inbound(json.loads(raw))
    assert (message.number, message.text, message.name, message.in_reply_to) == (
        "+37061200100",
        "Taip, atnaujinti",
        "Ona",
        "wamid.X",
    )
    assert gateway.parse_inbound({"object": "page", "entry": []}) == []


def test_the_subscription_check_echoes_the_challenge_only_for_the_right_token():
    params = {"hub.mode": "subscribe", "hub.verify_token": "vt-123", "hub.challenge": "1158201444"}
    assert verify_subscription(params, "vt-123") == "1158201444"
    assert verify_subscription({**params, "hub.verify_token": "nope"}, "vt-123") is None
    assert verify_subscription(params, "") is None


def test_connection_and_templates(meta, gateway):
    ok, text = gateway.test_connection()
    assert ok and "Agencja" in text
    meta.templates = [
        {
            "name": "policy_expiry",
            "language": "pl",
            "status": "APPROVED",
            "category": "UTILITY",
            "components": [
                {"type": "BODY", "text": "Dzień dobry {{1}}, polisa {{2}} kończy się {{3}}."}
            ],
            "id": "594425479261596",
        }
    ]
    [template] = gateway.list_templates()
    assert template == {
        "name": "policy_expiry",
        "language": "pl",
        "status": "approved",
        "category": "utility",
        "body": "Dzień dobry {{1}}, polisa {{2}} kończy się {{3}}.",
    }
