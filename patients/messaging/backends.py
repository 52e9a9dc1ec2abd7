"""Where messages go: one small interface, backends chosen by configuration.

`MESSAGING_BACKEND` names the backend:

- `console` (default): prints each message, so `make run` needs nothing;
- `file`: appends one JSON line per message (`channel`, `to`, `text`,
  `appointment`, `key`, `subject`) to `MESSAGING_FILE`, for tests and demos;
- `providers`: the real ones, by channel: SMS through Twilio's Messages API,
  WhatsApp through Meta's WhatsApp Cloud API with an approved template, and
  e-mail through Django's e-mail framework (`EMAIL_BACKEND`: SMTP, or a
  django-anymail provider).

A backend's `send` returns the provider's id and answer, or raises
`SendFailed` with the provider's answer. `idempotent` says whether the
provider honours our key, so that a message left "sending" by a crash may be
sent again safely; none of these three does, so such a message is not
resent (see `patients.messaging.services`).
"""

from __future__ import annotations

import fcntl
import json
import sys
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Outgoing:
    channel: str
    to: str
    text: str
    key: str
    subject: str = ""
    appointment: int | None = None
    # WhatsApp outside a 24-hour conversation needs an approved template: its
    # name and body parameters (the text is what the template reads).
    template: str = ""
    params: tuple[str, ...] = field(default_factory=tuple)
    language: str = "pt-br"
    # Where the provider reports delivery (an absolute URL), if anywhere.
    status_callback: str = ""


@dataclass(frozen=True)
class Sent:
    provider_id: str
    answer: str = ""


class SendFailed(Exception):
    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class Backend(Protocol):
    name: ClassVar[str]
    idempotent: ClassVar[bool]

    def send(self, message: Outgoing) -> Sent: ...


class ConsoleBackend:
    name = "console"
    idempotent = False

    def send(self, message: Outgoing) -> Sent:
        subject = f" «{message.subject}»" if message.subject and message.channel == "email" else ""
        sys.stdout.write(f"[{message.channel} → {message.to}]{subject} {message.text}\n")
        sys.stdout.flush()
        return Sent(provider_id=message.key, answer="printed")


class FileBackend:
    name = "file"
    idempotent = False

    def send(self, message: Outgoing) -> Sent:
        line = json.dumps({
            "channel": message.channel, "to": message.to, "text": message.text,
            "appointment": message.appointment, "key": message.key, "subject": message.subject,
            "sent_at": timezone.now().isoformat(),
        }, ensure_ascii=False)  # fmt: skip
        with open(settings.MESSAGING_FILE, "a", encoding="utf-8") as handle:
            # Several workers append at once: one whole line each.
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(line + "\n")
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
        return Sent(provider_id=message.key, answer="written")


class ProvidersBackend:
    """The real providers, one per channel."""

    name = "providers"
    idempotent = False

    def send(self, message: Outgoing) -> Sent:
        from patients.messaging import providers

        adapter: Any = {
            "sms": providers.TwilioSms, "whatsapp": providers.WhatsAppCloud, "email": providers.DjangoEmail,
        }[message.channel]()  # fmt: skip
        sent: Sent = adapter.send(message)
        return sent


BACKENDS: dict[str, str] = {
    "console": "patients.messaging.backends.ConsoleBackend",
    "file": "patients.messaging.backends.FileBackend",
    "providers": "patients.messaging.backends.ProvidersBackend",
}


def get_backend() -> Backend:
    name = settings.MESSAGING_BACKEND
    backend: Backend = import_string(BACKENDS.get(name, name))()
    return backend
