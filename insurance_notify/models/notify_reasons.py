"""Why a message was skipped, cancelled, held, failed or went late: stored as a
code with its parameters, shown in the viewer's language.

The codes are the selection of ``insurance.notify.message.reason_code``; their
labels are translated like any selection label, then completed with the
message's ``reason_params``. Codes are never renamed (history keeps them);
other add-ons extend the list with ``selection_add``.
"""

from ..lib.notify_engine import consent

REASONS = [
    # Left out when planned
    ("no_mobile", "no valid mobile number"),
    ("no_email", "no valid e-mail address"),
    ("not_mobile", "the number is not a mobile (a landline cannot receive SMS)"),
    ("sms_blacklisted", "SMS blacklisted (opted out)"),
    ("email_blacklisted", "e-mail blacklisted (opted out)"),
    ("no_sms_consent", "no consent to SMS"),
    ("no_email_consent", "no consent to e-mail"),
    ("no_marketing_consent", "no marketing consent"),
    ("no_specific_consent", "no consent to this notification"),
    ("consent_expired", "consent expired"),
    ("no_whatsapp_consent", "no consent to WhatsApp"),
    ("no_whatsapp_template", "no approved WhatsApp template for this reminder"),
    ("installment_paid", "installment paid"),
    ("policy_draft", "policy draft"),
    ("policy_cancelled", "policy cancelled"),
    ("policy_expired", "policy expired"),
    ("policy_renewed", "policy renewed"),
    ("already_reminded", "already reminded"),
    ("event_passed", "the event has passed"),
    ("birthday_passed", "the birthday has passed"),
    ("control_group", "control group: recorded, not sent, to measure the reminder"),
    # Cancelled
    ("stopped", "stopped by %(user)s"),
    ("cancelled_by", "cancelled by %(user)s"),
    ("task_closed", "task closed"),
    ("task_no_deadline", "task has no deadline"),
    ("deadline_moved", "deadline moved"),
    ("reminder_changed", "reminder changed or turned off"),
    ("reminder_removed", "reminder removed"),
    # Waiting
    ("provider_down", "the SMS provider is unavailable (%(detail)s): waiting for it"),
    ("number_busy", "the provider asked to wait before another SMS to this number"),
    ("over_cap", "the client's limit of messages is reached: waits for the next free day"),
    ("retry", "sent again by %(user)s"),
    # Failed
    ("no_sms_template", "the rule has no SMS template"),
    ("no_mail_template", "the rule has no e-mail template"),
    ("no_gateway", "no SMS gateway is configured"),
    ("gateway_misconfigured", "the SMS gateway is not set up: %(detail)s"),
    ("render_error", "the text could not be written: %(detail)s"),
    (
        "template_code",
        "the template %(template)s holds code no administrator wrote (%(expression)s): not sent",
    ),
    ("internal_error", "an unexpected error stopped sending (%(detail)s)"),
    ("too_long", "too long (%(parts)s parts > %(limit)s)"),
    ("expired", "not sent in time: the SMS provider was unavailable for over %(hours)s hours"),
    ("refused", "refused by the SMS provider: %(detail)s"),
    ("opted_out", "the number opted out at the SMS provider"),
    ("not_delivered", "not delivered: %(detail)s"),
    ("mail_failed", "the e-mail could not be sent: %(detail)s"),
    (
        "whatsapp_unconfirmed",
        "WhatsApp never confirmed the message within %(hours)s hours: not sent again",
    ),
    (
        "mail_interrupted",
        "sending was interrupted while the e-mail was handed to the mail server: "
        "it may have left, so it is not sent again by itself",
    ),
    # Sent late
    ("late_outage", "sent late: the SMS provider was unavailable"),
    ("late_cap", "sent later: the client's limit of messages a day was reached"),
    # Messages from before reasons were codes keep their text.
    ("legacy", "%(text)s"),
]

# notify_engine.consent decisions -> reason code, per channel.
CONSENT_REASONS = {
    (consent.BLACKLISTED, "sms"): "sms_blacklisted",
    (consent.BLACKLISTED, "email"): "email_blacklisted",
    (consent.CHANNEL_CONSENT_MISSING, "sms"): "no_sms_consent",
    (consent.CHANNEL_CONSENT_MISSING, "email"): "no_email_consent",
    (consent.MARKETING_CONSENT_MISSING, "sms"): "no_marketing_consent",
    (consent.MARKETING_CONSENT_MISSING, "email"): "no_marketing_consent",
    (consent.SPECIFIC_CONSENT_MISSING, "sms"): "no_specific_consent",
    (consent.SPECIFIC_CONSENT_MISSING, "email"): "no_specific_consent",
    (consent.CONSENT_EXPIRED, "sms"): "consent_expired",
    (consent.CONSENT_EXPIRED, "email"): "consent_expired",
    # WhatsApp: the number's blacklist is the SMS one (a STOP withdraws WhatsApp
    # consent itself, see res.partner).
    (consent.BLACKLISTED, "whatsapp"): "sms_blacklisted",
    (consent.CHANNEL_CONSENT_MISSING, "whatsapp"): "no_whatsapp_consent",
    (consent.MARKETING_CONSENT_MISSING, "whatsapp"): "no_marketing_consent",
    (consent.SPECIFIC_CONSENT_MISSING, "whatsapp"): "no_specific_consent",
    (consent.CONSENT_EXPIRED, "whatsapp"): "consent_expired",
}

MISSING_ADDRESS = {"sms": "no_mobile", "email": "no_email", "whatsapp": "no_mobile"}


class _Params(dict):
    # A parameter the reason does not carry (a summary over many messages, a
    # translation naming another one) reads "…" rather than hiding the reason.
    def __missing__(self, name):
        return "…"


def reason_text(labels, code, params):
    """The reason in the language ``labels`` (code -> translated label) are in."""
    if not code:
        return ""
    label = labels.get(code, code)
    try:
        return label % _Params(params or {})
    except (TypeError, ValueError):
        return label
