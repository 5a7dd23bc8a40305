"""What every gateway result says to its caller, whatever the provider."""

import pytest

from notify_engine.gateways import base
from notify_engine.gateways.base import SendResult


@pytest.mark.parametrize(
    ("error_class", "retryable", "outage"),
    [
        (base.NETWORK, True, True),
        (base.PROVIDER, True, True),
        (base.RATE_LIMIT, True, True),
        (base.NUMBER_BUSY, True, False),  # one number is busy, not the provider
        (base.AUTHORIZATION, False, False),
        (base.CREDITS, False, False),
        (base.INVALID_NUMBER, False, False),
        (base.OPTED_OUT, False, False),
        (base.REJECTED, False, False),
    ],
)
def test_failure_classes_say_whether_to_retry_and_whether_the_provider_is_down(
    error_class, retryable, outage
):
    result = SendResult.failure("k1", error_class, "1", "text")
    assert (result.retryable, result.outage) == (retryable, outage)


def test_an_accepted_message_is_neither_retryable_nor_an_outage():
    result = SendResult("k1", True, provider_ref="id1", error_class=base.NETWORK)
    assert not result.retryable
    assert not result.outage


def test_results_are_tried_unless_said_otherwise():
    assert not SendResult.failure("k1", base.NETWORK).not_tried
    assert not SendResult("k1", True).not_tried
