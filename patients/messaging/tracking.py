"""Delivery statuses reported by the providers update their message.

Twilio and WhatsApp call our webhooks (`patients.messaging.views`);
e-mail providers call django-anymail's tracking webhooks, whose signal is
connected here. A provider's message id is unique across organizations, so
the message is found without a tenant scope and updated inside its own.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from patients.messaging.models import Message, MessageStatus

# What each provider's statuses mean for us; others (queued, read...) change nothing.
TWILIO = {"delivered": MessageStatus.DELIVERED, "undelivered": MessageStatus.FAILED, "failed": MessageStatus.FAILED}
WHATSAPP = {"delivered": MessageStatus.DELIVERED, "read": MessageStatus.DELIVERED, "failed": MessageStatus.FAILED}
ANYMAIL = {"delivered": MessageStatus.DELIVERED, "bounced": MessageStatus.FAILED, "rejected": MessageStatus.FAILED,
           "failed": MessageStatus.FAILED}  # fmt: skip


def delivery_update(provider_id: str, status: str | None, answer: str) -> bool:
    """Record a delivery status; False when no message has that id."""
    if not provider_id or status is None:
        return False
    with scopes_disabled():  # the provider's id names one message, of whichever organization
        found = Message.objects.filter(provider_id=provider_id).values_list("pk", "organization_id").first()
    if found is None:
        return False
    pk, organization_id = found
    with organization_scope(organization_id):
        changes: dict[str, Any] = {"status": status, "answer": answer[:2000]}
        if status == MessageStatus.DELIVERED:
            changes["delivered_at"] = timezone.now()
        # A late "sent" never undoes "delivered"; "failed" after "delivered" is
        # kept (the provider changed its mind: e.g. a bounce).
        Message.objects.filter(pk=pk).exclude(status=status).update(**changes)
    return True


def _anymail_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    delivery_update(event.message_id or "", ANYMAIL.get(event.event_type), f"{esp_name}: {event.event_type}")


def connect() -> None:
    from anymail.signals import tracking

    tracking.connect(_anymail_tracking, dispatch_uid="patients.messaging.tracking")
