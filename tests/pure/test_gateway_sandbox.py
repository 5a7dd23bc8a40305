from notify_engine.gateways import OutgoingSms, SandboxGateway, make_gateway


def setup_function():
    SandboxGateway.reset()


def test_sandbox_keeps_what_it_would_send_and_counts_parts():
    gateway = make_gateway("sandbox")
    long_body = "Zażółć gęślą jaźń. " * 5  # Polish letters: UCS-2, 95 units, 2 parts
    results = gateway.send(
        [
            OutgoingSms("k1", "+48600123456", "Hello"),
            OutgoingSms("k2", "+37068688960", long_body),
        ]
    )
    assert [r.accepted for r in results] == [True, True]
    assert [r.parts for r in results] == [1, 2]
    assert results[0].provider_ref != results[1].provider_ref
    assert [m.number for m in SandboxGateway.outbox] == ["+48600123456", "+37068688960"]


def test_sandbox_refuses_a_key_it_already_accepted_like_smsapi_check_idx():
    gateway = make_gateway("sandbox")
    first = gateway.send([OutgoingSms("same-key", "+48600123456", "Hello")])[0]
    again = gateway.send([OutgoingSms("same-key", "+48600123456", "Hello")])[0]
    assert again.accepted and again.already_sent
    assert again.provider_ref == first.provider_ref
    assert len(SandboxGateway.outbox) == 1
