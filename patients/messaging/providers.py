"""HTTP adapters for the real providers, and the e-mail one.

- SMS: Twilio's Messages API (`TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`,
  `TWILIO_FROM`; `TWILIO_API_URL` for a test server). Delivery statuses come
  back to `/messaging/callbacks/twilio/`, signed with the auth token.
- WhatsApp: Meta's WhatsApp Cloud API (`WHATSAPP_TOKEN`,
  `WHATSAPP_PHONE_NUMBER_ID`; `WHATSAPP_API_URL`). Messages a business starts
  must use a template Meta approved: its name is `Outgoing.template` and the
  reminder's values are its body parameters. Statuses come back to
  `/messaging/callbacks/whatsapp/`, signed with `WHATSAPP_APP_SECRET`.
- E-mail: Django's e-mail framework, so `EMAIL_BACKEND` chooses SMTP or any
  django-anymail provider (whose tracking webhooks update the message).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid

from patients.messaging.backends import Outgoing, SendFailed, Sent

TIMEOUT = 10  # seconds: a provider that hangs must not hold a worker


def _answer(response: requests.Response) -> str:
    return f"{response.status_code} {response.text[:1000]}"


class TwilioSms:
    def send(self, message: Outgoing) -> Sent:
        sid = settings.TWILIO_ACCOUNT_SID
        data = {"To": message.to, "From": settings.TWILIO_FROM, "Body": message.text}
        if message.status_callback:
            data["StatusCallback"] = message.status_callback
        try:
            response = requests.post(
                f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{sid}/Messages.json",
                data=data, auth=(sid, settings.TWILIO_AUTH_TOKEN), timeout=TIMEOUT,
            )  # fmt: skip
        except requests.RequestException as error:
            raise SendFailed(f"{type(error).__name__}: {error}") from error
        if response.status_code != 201:
            raise SendFailed(_answer(response))
        return Sent(provider_id=str(response.json().get("sid", "")), answer=_answer(response))


def twilio_signature(url: str, params: Mapping[str, str | list[str]], token: str) -> str:
    """X-Twilio-Signature: the URL, then each POST parameter's name and value
    sorted by name (every value of a repeated one), HMAC-SHA1, base64."""
    payload = url
    for key in sorted(params):
        values = params[key]
        for value in sorted(values) if isinstance(values, list) else [values]:
            payload += f"{key}{value}"
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Our language codes as WhatsApp names its templates' languages.
WHATSAPP_LANGUAGES = {"pt-br": "pt_BR", "en": "en", "es": "es", "de": "de"}


class WhatsAppCloud:
    def send(self, message: Outgoing) -> Sent:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "to": message.to.lstrip("+"),
            "type": "template",
            "template": {
                "name": message.template or settings.WHATSAPP_REMINDER_TEMPLATE,
                "language": {"code": WHATSAPP_LANGUAGES.get(message.language, message.language)},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": value} for value in message.params]}
                ],
            },
        }
        try:
            response = requests.post(
                f"{settings.WHATSAPP_API_URL}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages",
                json=body, headers={"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"}, timeout=TIMEOUT,
            )  # fmt: skip
        except requests.RequestException as error:
            raise SendFailed(f"{type(error).__name__}: {error}") from error
        if response.status_code != 200:
            raise SendFailed(_answer(response))
        messages = response.json().get("messages") or [{}]
        return Sent(provider_id=str(messages[0].get("id", "")), answer=_answer(response))


def whatsapp_signature(body: bytes, secret: str) -> str:
    """X-Hub-Signature-256 of a webhook's raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DjangoEmail:
    def send(self, message: Outgoing) -> Sent:
        message_id = make_msgid(domain=settings.MESSAGING_EMAIL_DOMAIN)
        email = EmailMessage(
            subject=message.subject, body=message.text, to=[message.to],
            headers={"Message-ID": message_id, "X-Clinic-Message": message.key},
        )  # fmt: skip
        try:
            email.send()
        except Exception as error:  # any transport's error: SMTP, an anymail provider's API
            raise SendFailed(f"{type(error).__name__}: {error}") from error
        status = getattr(email, "anymail_status", None)
        provider_id = (status.message_id if status is not None else None) or message_id
        return Sent(provider_id=str(provider_id), answer="accepted")
