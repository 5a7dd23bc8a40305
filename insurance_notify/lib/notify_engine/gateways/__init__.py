"""SMS and WhatsApp provider adapters behind one interface (see :mod:`.base`)."""

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
from .whatsapp import WhatsAppGateway

PROVIDERS = {
    "sandbox": SandboxGateway,
    "smsapi": SmsapiGateway,
    "twilio": TwilioGateway,
    "whatsapp": WhatsAppGateway,
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
    "WhatsAppGateway",
    "make_gateway",
]
