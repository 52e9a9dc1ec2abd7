"""Messages sent to patients and guardians (A7, X7).

A `Message` is one text on one channel to one address: queued, being sent,
sent (the provider took it), delivered or failed (the provider's delivery
callback says so). Its `appointment` is an opaque reference, as the ledger's
session is: messaging never reads scheduling's tables. `key` is unique: the
caller's idempotency key ("reminder-123"), also given to providers that
honour one, so a message is never written (or sent) twice for one purpose.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from clinic.models import TenantModel
from patients.models import Patient


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", _("E-mail")


class MessageStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    # Left "sending" by a crash, with a provider that cannot tell a repeat:
    # not sent again blindly; staff see it and decide.
    UNKNOWN = "unknown", _("Unknown (interrupted)")


class MessageKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder")
    CODE = "code", _("Access code")


class Message(TenantModel):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices)
    to = models.CharField(_("to"), max_length=254)
    to_guardian = models.BooleanField(_("to the guardian"), default=False)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    appointment = models.PositiveBigIntegerField(_("appointment"), null=True, blank=True)
    key = models.CharField(max_length=80)
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices,
                              default=MessageStatus.SENDING)  # fmt: skip
    backend = models.CharField(_("sent through"), max_length=20)
    provider_id = models.CharField(max_length=120, blank=True, db_index=True)
    # What the provider answered (or the error), as it said it.
    answer = models.TextField(_("provider's answer"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["organization", "-created_at"], name="message_recent")]
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="message_key_unique")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.to}"


# What a reminder template may name, filled in by the reminder (`{name}` ...).
REMINDER_PLACEHOLDERS = ("name", "session", "when", "professional", "clinic", "cancel")


class MessageTemplate(TenantModel):
    """An organization's own wording of a kind of message in one language;
    without one, the built-in (translated) wording is used."""

    kind = models.CharField(_("kind"), max_length=20, choices=MessageKind.choices, default=MessageKind.REMINDER)
    language = models.CharField(_("language"), max_length=10)
    text = models.TextField(_("text"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "language"], name="message_template_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"
