"""SMS provider adapters behind one interface (see :mod:`.base`)."""

from .base import (
    DeliveryReport,
    Gateway,
    InboundSms,
    OutgoingSms,
    SendResult,
)
from .sandbox import SandboxGateway
from .smsapi import SmsapiGateway
from .twilio import TwilioGateway

PROVIDERS = {
    "sandbox": SandboxGateway,
    "smsapi": SmsapiGateway,
    "twilio": TwilioGateway,
}


def make_gateway(provider: str, **settings) -> Gateway:
    """Build the adapter for a provider code with its account settings."""
    return PROVIDERS[provider](**settings)


__all__ = [
    "PROVIDERS",
    "DeliveryReport",
    "Gateway",
    "InboundSms",
    "OutgoingSms",
    "SandboxGateway",
    "SendResult",
    "SmsapiGateway",
    "TwilioGateway",
    "make_gateway",
]
