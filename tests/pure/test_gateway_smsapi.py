"""SmsapiGateway against a loopback server that answers like api.smsapi.pl."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from notify_engine.fakes import Reply
from notify_engine.gateways import base
from notify_engine.gateways.base import REJECTED, OutgoingSms
from notify_engine.gateways.smsapi import SmsapiGateway

TOKEN = "tok-Sm5ap1-S3CRET-0123456789abcdef"

SHORT = (1, 0.2)  # connect, read: the slow server below sleeps longer than 0.2 s


def ok_answer(message_id="6A1B2C3D", parts=1, idx="k1"):
    return {
        "count": 1,
        "list": [
            {
                "id": message_id,
                "points": 0.16,
                "number": "48600123456",
                "date_sent": 1767000000,
                "submitted_number": "48600123456",
                "status": "QUEUE",
                "error": None,
                "idx": idx,
                "parts": parts,
            }
        ],
    }


@pytest.fixture
def make_gateway(fake):
    gateways = []

    def make(**settings):
        settings.setdefault("token", TOKEN)
        settings.setdefault("api_url", fake.url)
        gateway = SmsapiGateway(**settings)
        gateways.append(gateway)
        return gateway

    yield make
    for gateway in gateways:
        gateway.close()


def sms(key="k1", number="+48600123456", body="Przypomnienie: polisa OC konczy sie 21.07.", **kw):
    return OutgoingSms(key=key, number=number, body=body, **kw)


# -- success and what goes over the wire ----------------------------------


def test_success_returns_id_and_parts(fake, make_gateway):
    fake.reply(200, ok_answer("6A1B2C3D", parts=2))
    [result] = make_gateway(sender="Broker").send([sms()])

    assert result.accepted
    assert result.key == "k1"
    assert result.provider_ref == "6A1B2C3D"
    assert result.parts == 2
    assert result.error_class is None


def test_request_carries_the_documented_parameters(fake, make_gateway):
    fake.reply(200, ok_answer())
    body = "Zażółć gęślą jaźń – rata 120,00 zł"
    make_gateway(sender="Broker").send([sms(key="policy-7:rule-3:14", body=body)])

    [request] = fake.received
    assert request.method == "POST"
    assert request.path == "/sms.do"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "to": "48600123456",
        "message": body,
        "from": "Broker",
        "format": "json",
        "encoding": "utf-8",
        "details": "1",
        "idx": "policy-7:rule-3:14",
        "check_idx": "1",
    }


def test_options_add_their_parameters(fake, make_gateway):
    fake.reply(200, ok_answer())
    gateway = make_gateway(
        test_mode=True, flash=True, normalize=True, notify_url="https://erp.example/sms/smsapi"
    )
    gateway.send([sms()])

    form = fake.received[0].form
    assert form["test"] == "1"
    assert form["flash"] == "1"
    assert form["normalize"] == "1"
    assert form["notify_url"] == "https://erp.example/sms/smsapi"
    assert "from" not in form  # no sender anywhere: the account default applies


def test_message_sender_overrides_gateway_sender(fake, make_gateway):
    fake.reply(200, ok_answer())
    make_gateway(sender="Broker").send([sms(sender="Agent")])
    assert fake.received[0].form["from"] == "Agent"


def test_one_request_per_message_each_with_its_own_idx(fake, make_gateway):
    fake.respond(lambda request: Reply(200, ok_answer("id-" + request.form["idx"])))
    messages = [sms(key=f"k{i}", number=f"+3706868896{i}") for i in range(3)]
    results = make_gateway(batch=False).send(messages)

    assert [r.key for r in results] == ["k0", "k1", "k2"]
    assert [r.provider_ref for r in results] == ["id-k0", "id-k1", "id-k2"]
    # Requests are in flight together: they may arrive in any order.
    received = sorted((r.form["idx"], r.form["to"]) for r in fake.received)
    assert received == [(f"k{i}", f"3706868896{i}") for i in range(3)]


def test_empty_batch_makes_no_request(fake, make_gateway):
    assert make_gateway().send([]) == []
    assert fake.received == []


def test_malformed_number_is_refused_before_any_request(fake, make_gateway):
    [result] = make_gateway().send([sms(number="+48 600-123")])
    assert result.error_class == base.INVALID_NUMBER
    assert not result.retryable
    assert fake.received == []


# -- errors the provider reports ------------------------------------------


@pytest.mark.parametrize(
    ("code", "error_class", "retryable"),
    [
        (13, base.INVALID_NUMBER, False),
        (101, base.AUTHORIZATION, False),
        (103, base.CREDITS, False),
        (203, base.RATE_LIMIT, True),
        (14, base.SENDER, False),
        (11, base.TOO_LONG, False),
        (12, base.TOO_LONG, False),
        (8, REJECTED, False),
        (27, REJECTED, False),
        (4242, REJECTED, False),  # a code we do not know must not loop
        (999, base.PROVIDER, True),
        (201, base.PROVIDER, True),  # internal system error, temporary
        (202, base.RATE_LIMIT, True),  # too many simultaneous requests
        (52, base.NUMBER_BUSY, True),  # too many messages to this number just now
        (57, base.OPTED_OUT, False),  # number on the account's blacklist at SMSAPI
        (59, base.OPTED_OUT, False),  # number on the OptOut list
    ],
)
def test_errors_with_http_200_are_mapped(fake, make_gateway, code, error_class, retryable):
    fake.reply(200, {"error": code, "message": f"provider says {code}"})
    [result] = make_gateway().send([sms()])

    assert not result.accepted
    assert result.error_class == error_class
    assert result.error_code == str(code)
    assert result.error_text == f"provider says {code}"
    assert result.retryable is retryable


def test_error_13_keeps_provider_text(fake, make_gateway):
    fake.reply(
        200,
        {"error": 13, "message": "No correct phone numbers", "invalid_numbers": ["48221234567"]},
    )
    [result] = make_gateway().send([sms(number="+48221234567")])
    assert (result.error_class, result.error_code) == (base.INVALID_NUMBER, "13")
    assert result.error_text == "No correct phone numbers"


def test_error_in_the_list_item_is_an_error(fake, make_gateway):
    answer = ok_answer()
    answer["list"][0].update(error=13, message="Invalid number")
    fake.reply(200, answer)
    [result] = make_gateway().send([sms()])
    assert (result.accepted, result.error_class) == (False, base.INVALID_NUMBER)


def test_idx_already_used_means_already_sent(fake, make_gateway):
    fake.reply(200, {"error": 53, "message": "Idx already used"})
    [result] = make_gateway().send([sms()])

    assert result.accepted
    assert result.already_sent
    assert result.provider_ref is None
    assert result.error_code == "53"
    assert not result.retryable


def test_parts_at_the_top_level_when_the_entry_has_none(fake, make_gateway):
    # With details=1 SMSAPI may give the part count beside the list.
    answer = ok_answer("6A1B2C3D")
    del answer["list"][0]["parts"]
    answer["parts"] = 3
    fake.reply(200, answer)
    [result] = make_gateway().send([sms()])
    assert (result.accepted, result.provider_ref, result.parts) == (True, "6A1B2C3D", 3)


def test_parts_of_the_entry_win_over_the_top_level(fake, make_gateway):
    answer = ok_answer(parts=2)
    answer["parts"] = 5
    fake.reply(200, answer)
    [result] = make_gateway().send([sms()])
    assert result.parts == 2


def test_fresh_send_is_not_marked_already_sent(fake, make_gateway):
    fake.reply(200, ok_answer())
    [result] = make_gateway().send([sms()])
    assert result.accepted
    assert not result.already_sent


@pytest.mark.parametrize("status", [401, 403])
def test_http_401_403_without_json_is_authorization(fake, make_gateway, status):
    fake.reply(status, b"<html>Unauthorized</html>")
    [result] = make_gateway().send([sms()])
    assert result.error_class == base.AUTHORIZATION
    assert result.error_code == f"http {status}"
    assert not result.retryable


def test_http_401_with_json_error_uses_the_code(fake, make_gateway):
    fake.reply(401, {"error": 101, "message": "Authorization failed"})
    [result] = make_gateway().send([sms()])
    assert (result.error_class, result.error_code) == (base.AUTHORIZATION, "101")


def test_other_4xx_is_rejected_not_retried(fake, make_gateway):
    fake.reply(400, b"Bad Request")
    [result] = make_gateway().send([sms()])
    assert result.error_class == REJECTED
    assert result.error_code == "http 400"
    assert not result.retryable


def test_http_429_without_json_is_rate_limit(fake, make_gateway):
    fake.reply(429, b"slow down")
    [result] = make_gateway().send([sms()])
    assert result.error_class == base.RATE_LIMIT
    assert result.retryable


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx_is_retryable_provider_trouble(fake, make_gateway, status):
    fake.reply(status, b"<html>oops</html>")
    [result] = make_gateway().send([sms()])
    assert result.error_class == base.PROVIDER
    assert result.error_code == f"http {status}"
    assert result.retryable


@pytest.mark.parametrize(("status", "error_class"), [(503, base.PROVIDER), (429, base.RATE_LIMIT)])
def test_a_json_error_body_on_5xx_or_429_is_still_an_outage(
    fake, make_gateway, status, error_class
):
    # A proxy in front of the API answers with an error code of its own.
    fake.reply(status, {"error": "unavailable", "message": "maintenance"})
    [result] = make_gateway().send([sms()])
    assert result.error_class == error_class
    assert result.outage


def test_malformed_json_is_retryable_provider_trouble(fake, make_gateway):
    fake.reply(200, '{"count":1,"list":[{"id":"6A1B')
    [result] = make_gateway().send([sms()])
    assert result.error_class == base.PROVIDER
    assert result.retryable
    assert "malformed JSON" in result.error_text


def test_json_without_list_is_retryable_provider_trouble(fake, make_gateway):
    fake.reply(200, {"count": 0})
    [result] = make_gateway().send([sms()])
    assert result.error_class == base.PROVIDER
    assert result.retryable


# -- transport failures ---------------------------------------------------


def test_slow_answer_is_a_retryable_network_failure(fake, make_gateway):
    fake.reply(200, ok_answer(), delay=0.6)
    # Not timed (the machine may be busy): without the read timeout the
    # answer would arrive and be accepted.
    [result] = make_gateway(timeout=SHORT).send([sms()])

    assert result.error_class == base.NETWORK
    assert result.retryable
    assert "ReadTimeout" in result.error_text


def test_refused_connection_is_a_retryable_network_failure(make_gateway):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now, so the connection is refused at once.
    [result] = make_gateway(api_url=f"http://127.0.0.1:{port}", timeout=SHORT).send([sms()])
    assert result.error_class == base.NETWORK
    assert result.retryable


def test_default_timeout_is_explicit():
    gateway = SmsapiGateway(token=TOKEN)
    try:
        assert gateway.timeout == (5, 15)
    finally:
        gateway.close()


def test_each_gateway_has_its_own_session():
    first, second = SmsapiGateway(token=TOKEN), SmsapiGateway(token=TOKEN + "x")
    try:
        assert first._session is not second._session
    finally:
        first.close()
        second.close()


def test_token_is_required():
    with pytest.raises(ValueError):
        SmsapiGateway(token="")


# -- a batch stops where the rest would fail the same way -----------------


@pytest.mark.parametrize(
    ("reply", "error_class"),
    [
        (Reply(200, {"error": 103, "message": "Not enough points"}), base.CREDITS),
        (Reply(200, {"error": 101, "message": "Authorization failed"}), base.AUTHORIZATION),
        (Reply(200, {"error": 203, "message": "Too many requests"}), base.RATE_LIMIT),
        (Reply(200, {"error": 202, "message": "Too many simultaneous"}), base.RATE_LIMIT),
        (Reply(200, {"error": 201, "message": "System internal error"}), base.PROVIDER),
        (Reply(503, b"down"), base.PROVIDER),
    ],
)
def test_account_wide_failure_stops_the_batch(fake, make_gateway, reply, error_class):
    fake.respond(lambda _request: reply)
    gateway = make_gateway(batch=False)
    results = gateway.send([sms(key="a"), sms(key="b"), sms(key="c")])

    # A throttled request goes again a few times before the batch stops.
    tries = 1 + gateway.throttle_retries if error_class == base.RATE_LIMIT else 1
    assert len(fake.received) == tries
    assert [r.key for r in results] == ["a", "b", "c"]
    assert {r.error_class for r in results} == {error_class}
    assert [r.not_tried for r in results] == [False, True, True]
    assert results[1].error_text.startswith("not tried")


def test_per_message_failure_does_not_stop_the_batch(fake, make_gateway):
    def answer(request):
        if request.form["idx"] == "bad":
            return Reply(200, {"error": 13, "message": "No correct phone numbers"})
        return Reply(200, ok_answer("id-" + request.form["idx"]))

    fake.respond(answer)
    results = make_gateway(batch=False).send([sms(key="bad"), sms(key="good")])
    assert [r.accepted for r in results] == [False, True]
    assert not any(r.not_tried for r in results)
    assert len(fake.received) == 2


def test_too_many_messages_to_one_number_is_retryable_but_not_an_outage(fake, make_gateway):
    def answer(request):
        if request.form["to"] == "48600000001":
            return Reply(200, {"error": 52, "message": "Too many attempts to one number"})
        return Reply(200, ok_answer("id-" + request.form["idx"]))

    fake.respond(answer)
    results = make_gateway(batch=False).send(
        [sms(key="busy", number="+48600000001"), sms(key="b"), sms(key="c")]
    )

    busy = results[0]
    assert (busy.error_class, busy.retryable, busy.outage) == (base.NUMBER_BUSY, True, False)
    assert [r.accepted for r in results] == [False, True, True]
    assert len(fake.received) == 3


@pytest.mark.parametrize("code", [201, 202])
def test_temporary_provider_errors_are_an_outage(fake, make_gateway, code):
    fake.reply(200, {"error": code, "message": "temporary"})
    [result] = make_gateway().send([sms()])
    assert result.outage


# -- crash safety: the idempotency key makes a lookup needless -------------


def test_smsapi_needs_no_lookup_before_a_resend(fake, make_gateway):
    gateway = make_gateway()
    since = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert gateway.idempotent
    assert gateway.find_sent([sms(key="a"), sms(key="b")], since) == [None, None]
    assert fake.received == []
    with pytest.raises(ValueError):
        gateway.find_sent([sms()], since.replace(tzinfo=None))


# -- secrets stay out of logs and texts -----------------------------------


def test_token_never_reaches_logs_or_texts(fake, make_gateway, caplog):
    caplog.set_level(logging.DEBUG)
    answers = iter(
        [
            Reply(200, ok_answer()),
            # A provider echoing the token back must not carry it into our records.
            Reply(200, {"error": 101, "message": f"Token {TOKEN} is invalid"}),
            Reply(200, ok_answer(), delay=0.6),
            Reply(200, {"error": 101, "message": f"Token {TOKEN} is invalid"}),
        ]
    )
    fake.respond(lambda _request: next(answers))
    gateway = make_gateway(timeout=SHORT)

    results = gateway.send([sms(key="a")])
    results += gateway.send([sms(key="b")])
    results += gateway.send([sms(key="c")])
    ok, text = gateway.test_connection()

    assert caplog.records, "the gateway should log something at DEBUG"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert TOKEN not in logged
    texts = [r.error_text or "" for r in results] + [text]
    assert all(TOKEN not in t for t in texts)
    assert "***" in results[1].error_text
    assert not ok
    assert TOKEN not in repr(gateway)


# -- test_connection ------------------------------------------------------


def test_connection_reports_points_without_sending(fake, make_gateway):
    fake.reply(200, {"name": "Broker", "username": "broker@example.pl", "points": 123.45})
    assert make_gateway().test_connection() == (True, "points: 123.45")

    [request] = fake.received
    assert (request.method, request.path) == ("GET", "/profile")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_connection_subscription_account_without_points_works(fake, make_gateway):
    fake.reply(
        200,
        {
            "name": "Broker",
            "username": "broker@example.pl",
            "email": "broker@example.pl",
            "phone_number": "48600123456",
            "payment_type": "subscription",
            "user_type": "native",
        },
    )
    ok, text = make_gateway().test_connection()
    assert ok
    assert text == "account works; no points balance (subscription)"


def test_connection_with_bad_token(fake, make_gateway):
    fake.reply(401, {"error": 101, "message": "Authorization failed"})
    ok, text = make_gateway().test_connection()
    assert not ok
    assert "101" in text


def test_connection_http_error_without_json(fake, make_gateway):
    fake.reply(403, b"Forbidden")
    ok, text = make_gateway().test_connection()
    assert not ok
    assert "403" in text


def test_connection_slow_server(fake, make_gateway):
    fake.reply(200, {"points": 1}, delay=0.6)
    ok, text = make_gateway(timeout=SHORT).test_connection()
    assert not ok
    assert "ReadTimeout" in text


@pytest.mark.parametrize("body", ["not json", [], {"unexpected": 1}])
def test_connection_malformed_answer(fake, make_gateway, body):
    fake.reply(200, body)
    ok, text = make_gateway().test_connection()
    assert not ok
    assert "malformed" in text


# -- delivery reports -----------------------------------------------------


def test_report_delivered():
    gateway = SmsapiGateway(token=TOKEN)
    params = {"MsgId": "6A1B2C3D", "status": "404", "idx": "k1", "donedate": "1767000100"}
    assert gateway.parse_delivery_report(params) == [
        base.DeliveryReport("6A1B2C3D", "k1", base.DELIVERED, None)
    ]


@pytest.mark.parametrize(
    ("status", "state", "reason"),
    [
        ("404", base.DELIVERED, None),
        ("DELIVERED", base.DELIVERED, None),
        ("403", base.SENT, None),
        ("409", base.SENT, None),
        ("QUEUE", base.SENT, None),
        ("410", base.SENT, None),
        ("408", base.SENT, None),  # UNKNOWN: keep waiting
        ("401", base.FAILED, "NOT_FOUND"),
        ("402", base.FAILED, "EXPIRED"),
        ("405", base.FAILED, "UNDELIVERED"),
        ("undelivered", base.FAILED, "UNDELIVERED"),
        ("406", base.FAILED, "FAILED"),
        ("407", base.FAILED, "REJECTED"),
        ("REJECTED", base.FAILED, "REJECTED"),
    ],
)
def test_report_statuses_by_code_or_name(status, state, reason):
    [report] = SmsapiGateway(token=TOKEN).parse_delivery_report(
        {"MsgId": "X1", "status": status, "idx": "k1"}
    )
    assert (report.state, report.reason) == (state, reason)


def test_report_with_several_messages():
    params = {
        "MsgId": "A1,B2,C3",
        "status": "404,405,409",
        "idx": "k1,k2,k3",
        "donedate": "1767000100,1767000101,1767000102",
    }
    reports = SmsapiGateway(token=TOKEN).parse_delivery_report(params)
    assert reports == [
        base.DeliveryReport("A1", "k1", base.DELIVERED, None),
        base.DeliveryReport("B2", "k2", base.FAILED, "UNDELIVERED"),
        base.DeliveryReport("C3", "k3", base.SENT, None),
    ]


def test_report_keys_that_do_not_line_up_are_dropped_not_mispaired():
    params = {"MsgId": "A1,B2", "status": "404,404", "idx": "k,1,k2"}
    reports = SmsapiGateway(token=TOKEN).parse_delivery_report(params)
    assert [(r.provider_ref, r.key) for r in reports] == [("A1", None), ("B2", None)]


def test_report_without_idx_still_names_the_message():
    [report] = SmsapiGateway(token=TOKEN).parse_delivery_report({"MsgId": "A1", "status": "404"})
    assert (report.provider_ref, report.key) == ("A1", None)


def test_report_without_id_gives_nothing():
    assert SmsapiGateway(token=TOKEN).parse_delivery_report({"status": "404"}) == []


# -- throughput: several requests in flight --------------------------------


def test_a_batch_keeps_several_requests_in_flight(fake, make_gateway):
    # Counted at the provider, not timed: a slow answer holds its request open
    # while the others arrive.
    lock = threading.Lock()
    in_flight, most = [0], [0]

    def slow_answer(request):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.1)
        with lock:
            in_flight[0] -= 1
        return Reply(200, ok_answer(idx=request.form["idx"]))

    fake.respond(slow_answer)
    messages = [sms(key=f"k{n}") for n in range(33)]
    results = make_gateway(batch=False).send(messages)
    assert [r.key for r in results] == [m.key for m in messages]
    assert all(r.accepted for r in results)
    assert sorted(r.form["idx"] for r in fake.received) == sorted(m.key for m in messages)
    assert most[0] >= 4


# -- many personalised messages per request -------------------------------

from notify_engine.fakes import FakeSmsapi  # noqa: E402
from notify_engine.gateways.smsapi import personalise  # noqa: E402


def test_personalise_finds_the_places_where_texts_differ():
    bodies = [
        "Dzień dobry Jan Kowalski, polisa PL-1 kończy się 09.12.2026.",
        "Dzień dobry Anna Nowak, polisa PL-22 kończy się 15.12.2026.",
    ]
    message, params = personalise(bodies)
    assert message == "Dzień dobry [%1%] polisa [%2%] kończy się [%3%]"
    assert params == [
        ["Jan Kowalski,", "Anna Nowak,"],
        ["PL-1", "PL-22"],
        ["09.12.2026.", "15.12.2026."],
    ]
    assert personalise(["Same text", "Same text"]) == ("Same text", [])


@pytest.mark.parametrize(
    "bodies",
    [
        ["one two three", "one two"],  # not the same number of words
        ["a 1 b 2 c 3 d 4 e 5", "a 9 b 8 c 7 d 6 e 0"],  # five places
        ["price 1|2 now", "price 3 now"],  # a value SMSAPI would split
        ["send [%1%] x", "send [%1%] y"],  # SMSAPI's own syntax in the text
    ],
)
def test_personalise_refuses_what_one_message_cannot_say(bodies):
    assert personalise(bodies) is None


@pytest.fixture
def smsapi():
    with FakeSmsapi() as provider:
        yield provider


def _gateway(smsapi, **settings):
    return SmsapiGateway(token=TOKEN, api_url=smsapi.url, **settings)


def reminders(count, start=0):
    return [
        sms(
            key=f"policy-{n}:rule-3:7",
            number=f"+4860010{n:04d}",
            body=f"Dzień dobry Klient{n}, polisa OC/{n} kończy się {1 + n % 28:02d}.12.2026.",
        )
        for n in range(start, start + count)
    ]


def test_personalised_reminders_go_in_one_request_each_with_its_own_idx(smsapi):
    messages = reminders(50)
    gateway = _gateway(smsapi)
    results = gateway.send(messages)
    gateway.close()

    assert len(smsapi.received) == 1
    form = smsapi.received[0].form
    assert form["check_idx"] == "1"
    assert form["idx"].split("|") == [m.key for m in messages]
    assert "[%1%]" in form["message"]
    # The handsets got exactly the texts we rendered, each under its own key.
    assert smsapi.delivered == [(m.number[1:], m.key, m.body) for m in messages]
    assert all(r.accepted and r.provider_ref and r.parts == 1 for r in results)
    assert len({r.provider_ref for r in results}) == 50


def test_a_recipient_refused_in_a_batch_fails_alone(smsapi):
    messages = reminders(5)
    smsapi.invalid = {messages[2].number[1:]}
    gateway = _gateway(smsapi)
    results = gateway.send(messages)
    gateway.close()

    assert len(smsapi.received) == 1
    assert [r.accepted for r in results] == [True, True, False, True, True]
    assert results[2].error_class == base.INVALID_NUMBER
    assert len(smsapi.delivered) == 4


def test_a_batch_resent_after_a_lost_answer_sends_nothing_twice(smsapi):
    messages = reminders(10)
    smsapi.lose_answers = True
    gateway = _gateway(smsapi, timeout=(1, 0.5))
    lost = gateway.send(messages)
    assert {r.error_class for r in lost} == {base.NETWORK}
    assert all(r.retryable for r in lost)

    # The dispatcher resends them after the crash, together with new ones.
    smsapi.lose_answers = False
    again = gateway.send(messages[:6] + reminders(4, start=10))
    gateway.close()

    # Error 53 for the batch: each message is asked again on its own and the
    # ten already sent come back as already sent, the four new ones go once.
    assert [r.already_sent for r in again] == [True] * 6 + [False] * 4
    assert all(r.accepted for r in again)
    numbers = [number for number, _key, _text in smsapi.delivered]
    assert len(numbers) == len(set(numbers)) == 14


def test_an_account_wide_refusal_of_a_batch_stops_everything(fake):
    fake.reply(200, {"error": 103, "message": "Not enough points"})
    gateway = SmsapiGateway(token=TOKEN, api_url=fake.url)
    messages = reminders(3) + [sms(key="x", body="Inny tekst zupełnie, bez wspólnych słów tutaj")]
    results = gateway.send(messages)
    gateway.close()
    assert len(fake.received) == 1
    assert {r.error_class for r in results} == {base.CREDITS}
    assert [r.not_tried for r in results] == [False, False, False, True]


def test_texts_too_different_for_one_message_go_one_by_one(smsapi):
    bodies = ["Ala ma kota i psa", "Ola ma psa oraz kota", "Ela nie ma zwierząt wcale"]
    messages = [sms(key=f"k{i}", number=f"+4860000000{i}", body=b) for i, b in enumerate(bodies)]
    gateway = _gateway(smsapi)
    results = gateway.send(messages)
    gateway.close()
    assert all(r.accepted for r in results)
    assert sorted(text for _n, _k, text in smsapi.delivered) == sorted(bodies)
    assert all("," not in r.form["to"] for r in smsapi.received)


def test_a_throttled_request_waits_and_goes_again(fake, make_gateway):
    answers = iter([Reply(429, b"slow down"), Reply(429, b"slow down")])
    fake.respond(lambda request: next(answers, Reply(200, ok_answer(idx=request.form["idx"]))))
    [result] = make_gateway().send([sms()])
    assert result.accepted
    assert len(fake.received) == 3


def test_requests_start_no_faster_than_the_senders_rate(fake, make_gateway):
    fake.respond(lambda request: Reply(200, ok_answer(idx=request.form["idx"])))
    gateway = make_gateway(batch=False, rate=50, concurrency=10)
    start = time.monotonic()
    results = gateway.send([sms(key=f"k{n}") for n in range(26)])
    elapsed = time.monotonic() - start
    assert all(r.accepted for r in results)
    # 26 requests at 50 a second: the last starts 25 / 50 = 0.5 s after the first.
    assert elapsed >= 0.48
