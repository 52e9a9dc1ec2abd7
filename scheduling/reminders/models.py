"""One row per appointment, channel and kind of reminder (A7), unique in the
database: a reminder can be claimed, and sent, once."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clinic.models import TenantModel
from patients.messaging.models import Channel, Message
from scheduling.models import Appointment


class ReminderStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    # Not sent, and never will be: nobody to write to, opted out, or the
    # session started before it could go out.
    SKIPPED = "skipped", _("Not sent")


class Reminder(TenantModel):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=20, default="reminder")
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=10, choices=ReminderStatus.choices,
                              default=ReminderStatus.SCHEDULED)  # fmt: skip
    claimed_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Why it was not sent, or what went wrong.
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["appointment", "channel", "kind"], name="reminder_once_per_channel"),
            models.CheckConstraint(condition=Q(status__in=ReminderStatus.values), name="reminder_status_valid"),
        ]
        # What the sweep reads: the due rows, oldest first.
        indexes = [models.Index(fields=["due_at"], condition=Q(status="scheduled"), name="reminder_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.appointment_id}"
