"""Sending one message, once (A7).

`message_send` writes the `Message` row first, in its own committed
transaction, under the caller's unique `key`: a second call with the key
finds it and sends nothing. Only then does it call the backend, outside any
transaction (a slow provider holds no lock), and record what the provider
answered. A crash between the two leaves the row "sending";
`message_resume` decides what happens to it: sent again under the same key
where the backend honours keys, otherwise marked unknown for staff, never
sent again blindly.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, F, Q, TextField, Value, When
from django.utils import timezone

from patients.messaging.backends import Backend, Outgoing, SendFailed, get_backend
from patients.messaging.models import Message, MessageStatus
from patients.models import Patient


@dataclass(frozen=True)
class Draft:
    patient: Patient
    channel: str
    kind: str
    to: str
    text: str
    key: str
    to_guardian: bool = False
    subject: str = ""
    appointment: int | None = None
    template: str = ""
    params: tuple[str, ...] = ()
    language: str = "pt-br"
    status_callback: str = ""
    # What the messages page keeps of the text, when it holds a secret (a
    # one-time code): sent as `text`, recorded as this.
    recorded_text: str | None = None


def message_send(draft: Draft, *, backend: Backend | None = None) -> Message:
    """Send `draft` unless a message with its key exists (then return that one)."""
    backend = backend or get_backend()
    try:
        with transaction.atomic():
            message = Message.objects.create(
                organization_id=draft.patient.organization_id, patient=draft.patient, channel=draft.channel,
                kind=draft.kind, to=draft.to, to_guardian=draft.to_guardian, subject=draft.subject,
                text=draft.text if draft.recorded_text is None else draft.recorded_text,
                appointment=draft.appointment, key=draft.key, backend=backend.name,
            )  # fmt: skip
    except IntegrityError:
        return Message.objects.get(key=draft.key)
    return _deliver(message, draft, backend)


def _deliver(message: Message, draft: Draft, backend: Backend) -> Message:
    outgoing = Outgoing(
        channel=draft.channel, to=draft.to, text=draft.text, key=draft.key, subject=draft.subject,
        appointment=draft.appointment, template=draft.template, params=draft.params, language=draft.language,
        status_callback=draft.status_callback,
    )  # fmt: skip
    try:
        sent = backend.send(outgoing)
    except SendFailed as error:
        message.status, message.answer = MessageStatus.FAILED, error.answer[:2000]
        message.save(update_fields=["status", "answer"])
        return message
    message.status, message.provider_id, message.answer = MessageStatus.SENT, sent.provider_id, sent.answer[:2000]
    message.sent_at = timezone.now()
    # One UPDATE: the provider's id always (delivery callbacks find the message
    # by it); the status and answer only over "sending" (or "unknown", after a
    # recovery): a delivery callback may already have come in.
    pending = Q(status__in=[MessageStatus.SENDING, MessageStatus.UNKNOWN])
    Message.objects.filter(pk=message.pk).update(
        provider_id=message.provider_id, sent_at=message.sent_at,
        status=Case(When(pending, then=Value(message.status)), default=F("status"), output_field=CharField()),
        answer=Case(When(pending, then=Value(message.answer)), default=F("answer"), output_field=TextField()),
    )  # fmt: skip
    return message


def message_resume(draft: Draft, *, backend: Backend | None = None) -> Message:
    """The message of `draft.key` after a crash: sent again (same key) where
    the backend honours keys, else marked unknown. A message already settled
    is returned as it is."""
    backend = backend or get_backend()
    message = Message.objects.filter(key=draft.key).first()
    if message is None:
        return message_send(draft, backend=backend)
    if message.status != MessageStatus.SENDING:
        return message
    if backend.idempotent:
        return _deliver(message, draft, backend)
    Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.UNKNOWN, answer="interrupted before the provider's answer; not sent again"
    )
    message.refresh_from_db()
    return message
