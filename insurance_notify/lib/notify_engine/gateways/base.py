"""The one small interface every SMS provider adapter implements.

A gateway takes a batch of :class:`OutgoingSms` and answers, per message, a
:class:`SendResult`: accepted with the provider's id, or failed with an error
class, the provider's code and text, whether trying again can help
(:attr:`SendResult.retryable`), and whether the provider itself is down or
throttling (:attr:`SendResult.outage`: stop the run, keep the rest queued). It
also turns a provider's delivery-report callback into :class:`DeliveryReport`
rows. A provider without an idempotency key (:attr:`Gateway.idempotent` False)
answers :meth:`Gateway.find_sent`: did an attempt cut short go out after all?
Adapters never raise for a provider's answer; only programming errors raise.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

# datetime.UTC is Python 3.11+; Odoo 18 still runs on 3.10.
_UTC = timezone.utc  # noqa: UP017

# Error classes shared by every adapter, so callers need not know providers.
INVALID_NUMBER = "invalid_number"
AUTHORIZATION = "authorization"
CREDITS = "credits"
RATE_LIMIT = "rate_limit"
SENDER = "sender"
TOO_LONG = "too_long"
NETWORK = "network"
PROVIDER = "provider"
REJECTED = "rejected"  # refused for a reason no retry can fix (unknown codes too)
OPTED_OUT = "opted_out"  # the recipient replied STOP, or is on the provider's blacklist
# Too many messages to this one number just now: try it again later, but the
# rest of the batch goes on (it is not the account or the provider).
NUMBER_BUSY = "number_busy"
# WhatsApp: free text outside the 24 hours since the client's last message,
# and a template the account may not (or no longer) use.
OUTSIDE_WINDOW = "outside_window"
TEMPLATE = "template"

RETRYABLE = frozenset({RATE_LIMIT, NETWORK, PROVIDER, NUMBER_BUSY})
# The provider is down or throttling the whole account: every message would
# meet the same answer now, so a caller stops its run and spends no attempts.
OUTAGE = frozenset({RATE_LIMIT, NETWORK, PROVIDER})

# Delivery states a report can move a message to.
DELIVERED = "delivered"
FAILED = "failed"
SENT = "sent"
READ = "read"  # WhatsApp: delivered and opened


@dataclass(frozen=True)
class OutgoingSms:
    key: str  # our idempotency key; providers that support it dedupe on it
    number: str  # E.164, with the leading +
    body: str
    sender: str | None = None
    # WhatsApp: an approved template by name and language, with its numbered
    # parameters ({{1}}, {{2}}, ...); body is then the text as the client reads it.
    template: str | None = None
    language: str | None = None
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendResult:
    key: str
    accepted: bool
    provider_ref: str | None = None
    parts: int | None = None
    error_class: str | None = None
    error_code: str | None = None
    error_text: str | None = None
    # The provider had already accepted this key (e.g. SMSAPI error 53), or
    # find_sent found the message there: it went out before, so it counts as
    # sent and is not sent again.
    already_sent: bool = False
    # Never sent to the provider: an earlier message of the same batch met a
    # batch-stopping failure, whose class, code and text this one carries.
    not_tried: bool = False

    @property
    def retryable(self) -> bool:
        """Failed, and the same message may go through on a later try."""
        return not self.accepted and self.error_class in RETRYABLE

    @property
    def outage(self) -> bool:
        """Failed because the provider is down or throttling, not because of
        this message: stop the run and keep the rest queued without spending
        their attempts."""
        return not self.accepted and self.error_class in OUTAGE

    @classmethod
    def failure(cls, key, error_class, code=None, text=None):
        return cls(key, False, error_class=error_class, error_code=code, error_text=text)

    @classmethod
    def carrying(cls, key, failure, prefix="not tried: ", not_tried=True):
        """Message ``key`` meets ``failure`` of another: a batch it stopped
        (not tried), or a lookup made for several messages."""
        return cls(
            key,
            False,
            error_class=failure.error_class,
            error_code=failure.error_code,
            error_text=f"{prefix}{failure.error_text}",
            not_tried=not_tried,
        )


@dataclass(frozen=True)
class DeliveryReport:
    provider_ref: str | None
    key: str | None
    state: str  # DELIVERED, READ, FAILED or SENT (still on its way)
    reason: str | None = None
    number: str | None = None  # the recipient, where the provider says it


@dataclass(frozen=True)
class InboundSms:
    """A message a client sent to us (a reply)."""

    number: str  # as the provider gives it; normalize before use
    text: str
    provider_ref: str | None = None
    name: str | None = None  # the sender's profile name, where the provider has one
    # The provider's message this one answers (WhatsApp's context.id), if any.
    in_reply_to: str | None = None


class Gateway(ABC):
    """A provider account. Subclasses take their settings as keyword arguments."""

    provider = ""
    # Sending again under the same OutgoingSms.key never sends twice: the
    # provider refuses a key it has seen and the result says already_sent.
    # Where False (Twilio), a message whose attempt was cut short (a crash, a
    # lost answer) may have gone out: ask find_sent before sending it again.
    idempotent: bool = True

    @abstractmethod
    def send(self, messages: Sequence[OutgoingSms]) -> list[SendResult]:
        """Send a batch; one result per message, in the same order."""

    def find_sent(
        self, messages: Sequence[OutgoingSms], since: datetime
    ) -> list[SendResult | None]:
        """What the provider already has of each message, sent since ``since``.

        ``since`` is the (timezone-aware) moment of the earlier attempt. One
        answer per message, in order:

        - an accepted :class:`SendResult` with ``already_sent`` (and the
          provider's id and parts): the message went out; do not send it again;
        - ``None``: the provider has no such message; it is safe to send;
        - a failed :class:`SendResult` (class NETWORK, PROVIDER or RATE_LIMIT,
          so ``outage`` is true): the lookup could not be done; do NOT send,
          look again later.

        An idempotent gateway needs no lookup (a resend is refused as already
        sent), so this default answers ``None`` for every message.
        """
        aware_utc(since)
        return [None] * len(messages)

    def parse_delivery_report(self, params: Mapping[str, str]) -> list[DeliveryReport]:
        """Turn a provider callback's parameters into delivery reports."""
        raise NotImplementedError(f"{self.provider} has no delivery reports")

    def parse_inbound(self, params: Mapping[str, str]) -> list[InboundSms]:
        """Turn a provider's inbound-message callback into messages."""
        raise NotImplementedError(f"{self.provider} has no inbound messages")

    def test_connection(self) -> tuple[bool, str]:
        """Check credentials without sending anything billable."""
        return True, "ok"

    def close(self) -> None:  # noqa: B027 - optional: the sandbox holds nothing
        """Let go of what the adapter holds (HTTP connections); it may be used
        again afterwards, at the cost of new connections."""

    def __enter__(self):
        return self

    def __exit__(self, *_exc_info):
        self.close()


def aware_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is a programming error."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is needed, not {moment!r}")
    return moment.astimezone(_UTC)
