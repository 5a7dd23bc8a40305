"""TwilioGateway against a loopback server that answers like api.twilio.com."""

from __future__ import annotations

import base64
import logging
import socket
from datetime import UTC, datetime, timedelta, timezone

import pytest

from notify_engine.fakes import FakeTwilio, Reply
from notify_engine.gateways import SandboxGateway, SmsapiGateway, base
from notify_engine.gateways.base import OPTED_OUT, REJECTED, OutgoingSms
from notify_engine.gateways.twilio import TwilioGateway

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "tw-auth-S3CRET-fedcba9876543210"
BASIC = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
MESSAGES_PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"

SHORT = (1, 0.2)


def created(sid="SM0123456789abcdef0123456789abcdef", segments="1"):
    return {
        "sid": sid,
        "account_sid": SID,
        "status": "queued",
        "num_segments": segments,
        "error_code": None,
        "error_message": None,
    }


def error(code, message="An error", status=400):
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.fixture
def make_gateway(fake):
    gateways = []

    def make(**settings):
        settings.setdefault("account_sid", SID)
        settings.setdefault("auth_token", TOKEN)
        settings.setdefault("api_url", fake.url)
        gateway = TwilioGateway(**settings)
        gateways.append(gateway)
        return gateway

    yield make
    for gateway in gateways:
        gateway.close()


def sms(key="k1", number="+48600123456", body="Rata 120,00 zł za polisę OC do 21.07.", **kw):
    return OutgoingSms(key=key, number=number, body=body, **kw)


# -- success and what goes over the wire ----------------------------------


def test_success_returns_sid_and_segments(fake, make_gateway):
    fake.reply(201, created("SMabc", segments="2"))
    [result] = make_gateway(sender="+15005550006").send([sms()])

    assert result.accepted
    assert (result.key, result.provider_ref, result.parts) == ("k1", "SMabc", 2)
    assert result.error_class is None


def test_request_carries_the_documented_parameters(fake, make_gateway):
    fake.reply(201, created())
    gateway = make_gateway(sender="Broker", status_callback="https://erp.example/sms/twilio")
    gateway.send([sms(body="Zażółć gęślą jaźń")])

    [request] = fake.received
    assert (request.method, request.path) == ("POST", MESSAGES_PATH)
    assert request.headers["authorization"] == f"Basic {BASIC}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "To": "+48600123456",
        "From": "Broker",
        "Body": "Zażółć gęślą jaźń",
        "StatusCallback": "https://erp.example/sms/twilio",
    }


def test_messaging_service_instead_of_sender(fake, make_gateway):
    fake.reply(201, created())
    make_gateway(messaging_service_sid="MG0123").send([sms()])
    form = fake.received[0].form
    assert form["MessagingServiceSid"] == "MG0123"
    assert "From" not in form


def test_message_sender_overrides_gateway_sender(fake, make_gateway):
    fake.reply(201, created())
    make_gateway(sender="Broker").send([sms(sender="Agent")])
    assert fake.received[0].form["From"] == "Agent"


def test_no_sender_at_all_is_refused_before_any_request(fake, make_gateway):
    [result] = make_gateway().send([sms()])
    assert result.error_class == base.SENDER
    assert fake.received == []


def test_number_without_plus_is_refused_before_any_request(fake, make_gateway):
    [result] = make_gateway(sender="Broker").send([sms(number="48600123456")])
    assert result.error_class == base.INVALID_NUMBER
    assert fake.received == []


def test_one_request_per_message_in_order(fake, make_gateway):
    fake.respond(lambda request: Reply(201, created("SM-" + request.form["To"][-1])))
    results = make_gateway(sender="Broker").send(
        [sms(key=f"k{i}", number=f"+3706868896{i}") for i in range(3)]
    )
    assert [(r.key, r.provider_ref) for r in results] == [
        ("k0", "SM-0"),
        ("k1", "SM-1"),
        ("k2", "SM-2"),
    ]


# -- errors the provider reports ------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "error_class", "retryable"),
    [
        (401, 20003, base.AUTHORIZATION, False),
        (429, 20429, base.RATE_LIMIT, True),
        (400, 21211, base.INVALID_NUMBER, False),
        (400, 21614, base.INVALID_NUMBER, False),
        (400, 21606, base.SENDER, False),
        (400, 21610, OPTED_OUT, False),
        (400, 21602, REJECTED, False),  # message body required: not ours to retry
    ],
)
def test_errors_are_mapped(fake, make_gateway, status, code, error_class, retryable):
    fake.reply(status, error(code, f"Twilio says {code}", status))
    [result] = make_gateway(sender="Broker").send([sms()])

    assert not result.accepted
    assert result.error_class == error_class
    assert result.error_code == str(code)
    assert result.error_text == f"Twilio says {code}"
    assert result.retryable is retryable


@pytest.mark.parametrize("status", [401, 403])
def test_http_401_403_without_json_is_authorization(fake, make_gateway, status):
    fake.reply(status, b"Unauthorized")
    [result] = make_gateway(sender="Broker").send([sms()])
    assert (result.error_class, result.error_code) == (base.AUTHORIZATION, f"http {status}")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx_is_retryable(fake, make_gateway, status):
    fake.reply(status, b"<html>oops</html>")
    [result] = make_gateway(sender="Broker").send([sms()])
    assert (result.error_class, result.error_code) == (base.PROVIDER, f"http {status}")
    assert result.retryable


def test_http_5xx_with_twilio_code_is_retryable(fake, make_gateway):
    fake.reply(500, error(20500, "Internal Server Error", 500))
    [result] = make_gateway(sender="Broker").send([sms()])
    assert (result.error_class, result.error_code) == (base.PROVIDER, "20500")
    assert result.retryable


def test_created_with_unreadable_body_counts_as_sent(fake, make_gateway):
    fake.reply(201, '{"sid": "SM01')
    [result] = make_gateway(sender="Broker").send([sms()])
    assert result.accepted
    assert result.provider_ref is None
    assert "unreadable" in result.error_text


def test_error_with_malformed_json_is_rejected_with_status(fake, make_gateway):
    fake.reply(400, '{"code": 21')
    [result] = make_gateway(sender="Broker").send([sms()])
    assert (result.error_class, result.error_code) == (REJECTED, "http 400")


# -- transport failures ---------------------------------------------------


def test_slow_answer_is_a_retryable_network_failure(fake, make_gateway):
    fake.reply(201, created(), delay=0.6)
    # Not timed (the machine may be busy): without the read timeout the
    # answer would arrive and be accepted.
    [result] = make_gateway(sender="Broker", timeout=SHORT).send([sms()])

    assert result.error_class == base.NETWORK
    assert result.retryable
    # No idempotency key at Twilio: the caller is told a retry may duplicate.
    assert "may have been sent" in result.error_text


def test_default_timeout_is_explicit():
    gateway = TwilioGateway(account_sid=SID, auth_token=TOKEN)
    try:
        assert gateway.timeout == (5, 15)
    finally:
        gateway.close()


def test_credentials_are_required():
    with pytest.raises(ValueError):
        TwilioGateway(account_sid=SID, auth_token="")


def test_account_wide_failure_stops_the_batch(fake, make_gateway):
    fake.reply(401, error(20003, "Authenticate", 401))
    results = make_gateway(sender="Broker").send([sms(key="a"), sms(key="b")])
    assert len(fake.received) == 1
    assert [r.error_class for r in results] == [base.AUTHORIZATION, base.AUTHORIZATION]
    assert [r.not_tried for r in results] == [False, True]
    assert results[1].error_text.startswith("not tried")


def test_opted_out_recipient_does_not_stop_the_batch(fake, make_gateway):
    def answer(request):
        if request.form["To"] == "+48600000001":
            return Reply(400, error(21610, "Attempt to send to unsubscribed recipient"))
        return Reply(201, created())

    fake.respond(answer)
    results = make_gateway(sender="Broker").send(
        [sms(key="a", number="+48600000001"), sms(key="b")]
    )
    assert [r.error_class for r in results] == [OPTED_OUT, None]
    assert results[1].accepted


# -- secrets stay out of logs and texts -----------------------------------


def test_token_never_reaches_logs_or_texts(fake, make_gateway, caplog):
    caplog.set_level(logging.DEBUG)
    answers = iter(
        [
            Reply(201, created()),
            Reply(401, error(20003, f"Bad token {TOKEN}", 401)),
            Reply(201, created(), delay=0.6),
            Reply(401, error(20003, f"Bad token {TOKEN}", 401)),
        ]
    )
    fake.respond(lambda _request: next(answers))
    gateway = make_gateway(sender="Broker", timeout=SHORT)

    results = gateway.send([sms(key="a")])
    results += gateway.send([sms(key="b")])
    results += gateway.send([sms(key="c")])
    ok, text = gateway.test_connection()

    assert caplog.records
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (TOKEN, BASIC):
        assert secret not in logged
        assert all(secret not in (r.error_text or "") for r in results)
        assert secret not in text
    assert "***" in results[1].error_text
    assert not ok


# -- test_connection ------------------------------------------------------


def test_connection_active_account(fake, make_gateway):
    fake.reply(200, {"sid": SID, "friendly_name": "Broker", "status": "active"})
    assert make_gateway().test_connection() == (True, "account status: active")
    [request] = fake.received
    assert (request.method, request.path) == ("GET", f"/2010-04-01/Accounts/{SID}.json")
    assert request.headers["authorization"] == f"Basic {BASIC}"


def test_connection_suspended_account(fake, make_gateway):
    fake.reply(200, {"sid": SID, "status": "suspended"})
    assert make_gateway().test_connection() == (False, "account status: suspended")


def test_connection_bad_credentials(fake, make_gateway):
    fake.reply(401, error(20003, "Authenticate", 401))
    ok, text = make_gateway().test_connection()
    assert not ok
    assert "authorization failed" in text


def test_connection_slow_server(fake, make_gateway):
    fake.reply(200, {"status": "active"}, delay=0.6)
    ok, text = make_gateway(timeout=SHORT).test_connection()
    assert not ok
    assert "ReadTimeout" in text


# -- delivery reports -----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "state", "reason"),
    [
        ({"MessageStatus": "delivered"}, base.DELIVERED, None),
        (
            {"MessageStatus": "undelivered", "ErrorCode": "30003"},
            base.FAILED,
            "undelivered (error 30003)",
        ),
        ({"MessageStatus": "failed", "ErrorCode": "30008"}, base.FAILED, "failed (error 30008)"),
        ({"MessageStatus": "failed"}, base.FAILED, "failed"),
        ({"MessageStatus": "queued"}, base.SENT, None),
        ({"MessageStatus": "accepted"}, base.SENT, None),
        ({"MessageStatus": "sending"}, base.SENT, None),
        ({"MessageStatus": "sent"}, base.SENT, None),
    ],
)
def test_report_statuses(params, state, reason):
    gateway = TwilioGateway(account_sid=SID, auth_token=TOKEN)
    [report] = gateway.parse_delivery_report({"MessageSid": "SM1", "AccountSid": SID, **params})
    assert report == base.DeliveryReport("SM1", None, state, reason)


def test_report_without_sid_or_for_inbound_message_gives_nothing():
    gateway = TwilioGateway(account_sid=SID, auth_token=TOKEN)
    assert gateway.parse_delivery_report({"MessageStatus": "delivered"}) == []
    assert gateway.parse_delivery_report({"MessageSid": "SM1", "SmsStatus": "received"}) == []


# -- X-Twilio-Signature ---------------------------------------------------
# Vectors from Twilio's own helper library tests (twilio-python,
# tests/unit/test_request_validator.py): token "12345", this URL and params.

VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}


@pytest.fixture
def signer():
    return TwilioGateway(account_sid=SID, auth_token="12345")


def test_signature_known_vector(signer):
    assert signer.validate_signature(VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_signature_tampered_param_fails(signer):
    tampered = {**VECTOR_PARAMS, "Digits": "1235"}
    assert not signer.validate_signature(VECTOR_URL, tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_signature_extra_param_fails(signer):
    extra = {**VECTOR_PARAMS, "MessageStatus": "delivered"}
    assert not signer.validate_signature(VECTOR_URL, extra, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_signature_other_url_fails(signer):
    url = VECTOR_URL.replace("foo=1", "foo=2")
    assert not signer.validate_signature(url, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_signature_wrong_token_fails():
    other = TwilioGateway(account_sid=SID, auth_token="54321")
    assert not other.validate_signature(VECTOR_URL, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


@pytest.mark.parametrize("signature", ["", None, "garbage", "RSOYDt4T1cUTdK1PDd93/VVr8B8"])
def test_signature_missing_or_malformed_fails(signer, signature):
    assert not signer.validate_signature(VECTOR_URL, VECTOR_PARAMS, signature)


def test_signature_port_in_url_but_not_signed(signer):
    url = VECTOR_URL.replace(".com", ".com:1234")
    assert signer.validate_signature(url, VECTOR_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_signature_signed_with_port_http(signer):
    url = VECTOR_URL.replace(".com", ".com:1234").replace("https", "http")
    assert signer.validate_signature(url, VECTOR_PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")


def test_signature_signed_with_default_port_https(signer):
    assert signer.validate_signature(VECTOR_URL, VECTOR_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=")


def test_signature_signed_with_default_port_http(signer):
    url = VECTOR_URL.replace("https", "http")
    assert signer.validate_signature(url, VECTOR_PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4=")


class _MultiDict:
    """The shape of werkzeug's MultiDict (what Odoo's request hands over)."""

    def __init__(self, pairs):
        self._pairs = pairs

    def __iter__(self):
        return iter(dict.fromkeys(name for name, _ in self._pairs))

    def getlist(self, name):
        return [value for key, value in self._pairs if key == name]


def test_signature_repeated_params(signer):
    pairs = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    expected = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert signer.validate_signature(VECTOR_URL, _MultiDict(pairs), expected)
    as_lists = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234"]}
    assert signer.validate_signature(VECTOR_URL, as_lists, expected)


# -- finding what was sent when an answer was lost ------------------------
# Twilio has no idempotency key: before a message whose attempt was cut short
# is sent again, find_sent asks Twilio's message list whether it went out.


@pytest.fixture
def twilio(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with FakeTwilio(SID, TOKEN) as provider:
        yield provider


@pytest.fixture
def twilio_gateway(twilio):
    gateway = TwilioGateway(
        account_sid=SID, auth_token=TOKEN, sender="+15005550006", api_url=twilio.url, timeout=SHORT
    )
    yield gateway
    gateway.close()


DAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_twilio_is_not_idempotent_the_others_are():
    assert TwilioGateway.idempotent is False
    assert SmsapiGateway.idempotent is True
    assert SandboxGateway.idempotent is True


@pytest.mark.parametrize(
    "lost",
    [Reply(drop=True), Reply(201, {"sid": "late"}, delay=0.6)],
    ids=["connection closed", "read timeout"],
)
def test_sent_but_answer_lost_is_found(twilio, twilio_gateway, lost):
    since = datetime.now(UTC)
    long_body = "Zażółć gęślą jaźń. " * 5  # UCS-2, 95 units: 2 segments
    twilio.lose_answers = lost
    [sent] = twilio_gateway.send([sms(key="k1", body=long_body)])
    assert (sent.accepted, sent.error_class) == (False, base.NETWORK)
    [stored] = twilio.messages

    [found] = twilio_gateway.find_sent([sms(key="k1", body=long_body)], since)

    assert found.accepted and found.already_sent
    assert (found.key, found.provider_ref, found.parts) == ("k1", stored["sid"], 2)
    assert not found.retryable and not found.outage


def test_never_created_is_none(twilio, twilio_gateway):
    assert twilio_gateway.find_sent([sms(key="k1")], datetime.now(UTC)) == [None]
    [lookup] = twilio.lookups
    assert twilio.created == []
    assert lookup.headers["authorization"] == f"Basic {BASIC}"


def test_lookup_asks_for_the_number_since_the_day_of_the_attempt(twilio, twilio_gateway):
    # 00:01 UTC less the clock-skew allowance is the day before, in UTC.
    since = datetime(2026, 11, 25, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    twilio_gateway.find_sent([sms()], since)
    [lookup] = twilio.lookups
    assert (lookup.method, lookup.path) == ("GET", MESSAGES_PATH)
    assert lookup.query["To"] == ["+48600123456"]
    assert lookup.query["DateSent>"] == ["2026-11-24"]


@pytest.mark.parametrize(
    ("reply", "error_class"),
    [
        (Reply(503, b"<html>down</html>"), base.PROVIDER),
        (Reply(500, error(20500, "Internal Server Error", 500)), base.PROVIDER),
        (Reply(429, error(20429, "Too Many Requests", 429)), base.RATE_LIMIT),
        (Reply(401, error(20003, "Authenticate", 401)), base.PROVIDER),
        (Reply(200, "not json"), base.PROVIDER),
        (Reply(200, {"unexpected": []}), base.PROVIDER),
        (Reply(drop=True), base.NETWORK),
        (Reply(200, {"messages": []}, delay=0.6), base.NETWORK),
    ],
)
def test_lookup_down_is_a_failure_not_none(twilio, twilio_gateway, reply, error_class):
    twilio.add("+48600123456", "Rata 120,00 zł za polisę OC do 21.07.", created=DAY)
    twilio.list_reply = reply
    [result] = twilio_gateway.find_sent([sms()], DAY)

    assert result is not None
    assert not result.accepted
    assert result.error_class == error_class
    assert result.outage  # the caller must not send it now
    assert "lookup failed" in result.error_text


def test_lookup_with_nothing_listening_is_a_network_failure(twilio):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = TwilioGateway(
        account_sid=SID, auth_token=TOKEN, api_url=f"http://127.0.0.1:{port}", timeout=SHORT
    )
    try:
        [result] = gateway.find_sent([sms()], DAY)
    finally:
        gateway.close()
    assert (result.accepted, result.error_class) == (False, base.NETWORK)


def test_one_lookup_per_number_not_per_message(twilio, twilio_gateway):
    twilio.add("+48600000001", "first", created=DAY)
    twilio.add("+48600000001", "second", created=DAY + timedelta(seconds=1))
    results = twilio_gateway.find_sent(
        [
            sms(key="a", number="+48600000001", body="first"),
            sms(key="b", number="+48600000002", body="first"),
            sms(key="c", number="+48600000001", body="second"),
            sms(key="d", number="+48600000001", body="third"),
        ],
        DAY,
    )
    assert [r and r.key for r in results] == ["a", None, "c", None]
    assert sorted(r.query["To"][0] for r in twilio.lookups) == ["+48600000001", "+48600000002"]


def test_a_failed_lookup_stops_the_lookups_after_it(twilio, twilio_gateway):
    twilio.list_reply = Reply(503, b"down")
    results = twilio_gateway.find_sent(
        [sms(key="a", number="+48600000001"), sms(key="b", number="+48600000002")], DAY
    )
    assert len(twilio.lookups) == 1
    assert [r.error_class for r in results] == [base.PROVIDER, base.PROVIDER]
    assert [r.not_tried for r in results] == [False, True]


@pytest.mark.parametrize(
    ("stored", "found"),
    [
        ({}, True),
        ({"created": DAY - timedelta(minutes=1)}, True),  # within the clock-skew allowance
        ({"created": DAY - timedelta(minutes=10)}, False),  # an earlier message, not this one
        ({"body": "Rata 120,00 zł za polisę OC do 22.07."}, False),
        ({"direction": "inbound"}, False),  # the client's reply quoting us
        ({"to": "+48600999999"}, False),
    ],
)
def test_what_counts_as_the_same_message(twilio, twilio_gateway, stored, found):
    twilio.add(
        stored.get("to", "+48600123456"),
        stored.get("body", "Rata 120,00 zł za polisę OC do 21.07."),
        created=stored.get("created", DAY + timedelta(seconds=5)),
        direction=stored.get("direction", "outbound-api"),
    )
    [result] = twilio_gateway.find_sent([sms()], DAY)
    assert (result is not None) is found


def test_an_entry_for_another_number_is_not_adopted(twilio, twilio_gateway):
    # Even if the list answered for more numbers than asked for.
    other = twilio.add("+48600999999", "Rata 120,00 zł za polisę OC do 21.07.", created=DAY)
    twilio.list_reply = Reply(200, {"messages": [_listed(other)], "next_page_uri": None})
    assert twilio_gateway.find_sent([sms()], DAY) == [None]


def _listed(message):
    return {name: value for name, value in message.items() if not name.startswith("_")}


def test_a_message_at_twilio_is_adopted_once(twilio, twilio_gateway):
    # Two of ours with the same number and text, one at Twilio: one is sent.
    twilio.add("+48600123456", "Same text", created=DAY)
    results = twilio_gateway.find_sent(
        [sms(key="a", body="Same text"), sms(key="b", body="Same text")], DAY
    )
    assert [r and r.key for r in results] == ["a", None]


def test_later_pages_are_followed(twilio, twilio_gateway):
    twilio_gateway.lookup_page_size = 10
    twilio.add("+48600123456", "ours", created=DAY + timedelta(seconds=1))
    for second in range(25):
        twilio.add("+48600123456", f"newer {second}", created=DAY + timedelta(minutes=5 + second))

    [result] = twilio_gateway.find_sent([sms(body="ours")], DAY)

    assert result.accepted and result.already_sent
    assert len(twilio.lookups) == 3
    assert twilio.lookups[2].query["Page"] == ["2"]


def test_paging_stops_once_everything_is_found(twilio, twilio_gateway):
    twilio_gateway.lookup_page_size = 10
    for second in range(25):
        twilio.add("+48600123456", f"older {second}", created=DAY + timedelta(seconds=second))
    twilio.add("+48600123456", "ours", created=DAY + timedelta(minutes=5))

    [result] = twilio_gateway.find_sent([sms(body="ours")], DAY)
    assert result.accepted
    assert len(twilio.lookups) == 1


def test_paging_stops_at_messages_older_than_the_attempt(twilio, twilio_gateway):
    twilio_gateway.lookup_page_size = 10
    for second in range(25):
        twilio.add(
            "+48600123456", f"old {second}", created=DAY - timedelta(hours=1, seconds=second)
        )

    assert twilio_gateway.find_sent([sms(body="ours")], DAY) == [None]
    assert len(twilio.lookups) == 1


def test_too_many_pages_is_a_failure_not_none(twilio, twilio_gateway):
    twilio_gateway.lookup_page_size = 10
    twilio_gateway.lookup_max_pages = 2
    for second in range(25):
        twilio.add("+48600123456", f"newer {second}", created=DAY + timedelta(seconds=second))

    [result] = twilio_gateway.find_sent([sms(body="ours")], DAY)

    assert len(twilio.lookups) == 2
    assert (result.accepted, result.error_class, result.outage) == (False, base.PROVIDER, True)


def test_next_page_off_this_host_is_not_followed(twilio, twilio_gateway):
    twilio.list_reply = Reply(
        200, {"messages": [], "next_page_uri": "https://elsewhere.example/Messages.json"}
    )
    [result] = twilio_gateway.find_sent([sms()], DAY)
    assert len(twilio.received) == 1
    assert (result.accepted, result.error_class) == (False, base.PROVIDER)


def test_a_number_send_refuses_needs_no_lookup(twilio, twilio_gateway):
    assert twilio_gateway.find_sent([sms(number="48600123456")], DAY) == [None]
    assert twilio.received == []


def test_since_must_be_timezone_aware(twilio_gateway):
    with pytest.raises(ValueError):
        twilio_gateway.find_sent([sms()], datetime(2026, 11, 25, 10, 0))


def test_lookup_keeps_the_token_out_of_logs_and_texts(twilio, twilio_gateway, caplog):
    caplog.set_level(logging.DEBUG)
    twilio.add("+48600123456", "Rata 120,00 zł za polisę OC do 21.07.", created=DAY)
    found = twilio_gateway.find_sent([sms(key="a"), sms(key="b", number="+48600000002")], DAY)
    twilio.list_reply = Reply(401, error(20003, f"Bad token {TOKEN}", 401))
    failed = twilio_gateway.find_sent([sms(key="c")], DAY)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    texts = [r.error_text or "" for r in [*found, *failed] if r is not None]
    for secret in (TOKEN, BASIC):
        assert secret not in logged
        assert all(secret not in text for text in texts)
    assert "***" in failed[0].error_text
    assert all(
        request.headers.get("authorization") == f"Basic {BASIC}" for request in twilio.lookups
    )
