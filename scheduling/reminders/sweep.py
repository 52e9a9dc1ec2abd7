"""Sending the reminders that are due, each exactly once (A7).

The sweep (Celery beat every minute, or `manage.py send_reminders`) goes
through the organizations with due reminders, one scope at a time, and for
each:

1. claims a batch of due rows with `SELECT … FOR UPDATE SKIP LOCKED`, marks
   them `sending` and commits: other workers skip these rows, never wait;
2. sends each claimed reminder outside any transaction, through
   `patients.messaging.services.message_send` under the key
   `reminder-<id>`, and records `sent` or `failed` with the provider's
   answer;
3. never sends one whose session has started, or was cancelled meanwhile.

A row left `sending` by a crash (claimed more than `STALE_AFTER` ago) is
claimed again by `recover`: if no message was written it is sent; if one was
written but not settled, it is resent only through a backend that honours
keys, else marked failed ("interrupted") for staff, never resent blindly.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from patients.messaging import routing
from patients.messaging.backends import Backend, get_backend
from patients.messaging.models import MessageKind, MessageStatus
from patients.messaging.services import Draft, message_resume, message_send
from patients.portal.services import patient_link
from scheduling.models import Appointment
from scheduling.reminders.models import Reminder, ReminderStatus
from scheduling.reminders.texts import reminder_text
from scheduling.services import status_for_code

logger = logging.getLogger(__name__)

# Small batches: a claimed batch is sent well within STALE_AFTER even when a
# provider takes its full timeout for each message.
BATCH = 25
STALE_AFTER = dt.timedelta(minutes=10)


@dataclass
class Swept:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status == ReminderStatus.SENT:
            self.sent += 1
        elif status == ReminderStatus.FAILED:
            self.failed += 1
        else:
            self.skipped += 1


def send_due(now: dt.datetime | None = None, *, backend: Backend | None = None) -> Swept:
    """Send every reminder due at `now`, in every organization."""
    now = now or timezone.now()
    backend = backend or get_backend()
    swept = Swept()
    wordings: dict[tuple[int, str], str | None] = {}
    due = Q(status=ReminderStatus.SCHEDULED, due_at__lte=now) | Q(
        status=ReminderStatus.SENDING, claimed_at__lt=now - STALE_AFTER
    )
    with scopes_disabled():  # which organizations have work: the one cross-tenant read
        organizations = list(Reminder.objects.filter(due).values_list("organization_id", flat=True).distinct())
    for organization_id in organizations:
        try:
            with organization_scope(organization_id):
                recover(now, backend=backend, swept=swept)
                while claimed := claim(now):
                    for reminder in claimed:
                        swept.count(deliver(reminder, backend=backend, wordings=wordings))
        except Exception:  # one organization's trouble never stops the others'
            logger.exception("reminders of organization %s: the sweep stopped", organization_id)
    return swept


def claim(now: dt.datetime, *, stale: bool = False, batch: int | None = None) -> list[Reminder]:
    """Claim due rows no other worker holds; committed before anything is sent."""
    rows = (Q(status=ReminderStatus.SENDING, claimed_at__lt=now - STALE_AFTER) if stale
            else Q(status=ReminderStatus.SCHEDULED, due_at__lte=now))  # fmt: skip
    with transaction.atomic():
        ids = list(
            Reminder.objects.filter(rows).order_by("due_at", "pk").select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: batch or BATCH]
        )  # fmt: skip
        Reminder.objects.filter(pk__in=ids).update(status=ReminderStatus.SENDING, claimed_at=timezone.now())
    return list(
        Reminder.objects.filter(pk__in=ids)
        .select_related(
            "appointment__patient", "appointment__professional", "appointment__clinic", "appointment__patient_package"
        )
        .prefetch_related("appointment__lines__service")
        .order_by("due_at", "pk")
    )


def recover(now: dt.datetime, *, backend: Backend, swept: Swept) -> None:
    for reminder in claim(now, stale=True):
        swept.count(deliver(reminder, backend=backend, resume=True))


def _settle(reminder: Reminder, status: str, note: str = "", message_id: int | None = None) -> str:
    Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING).update(
        status=status, note=note[:300], message_id=message_id, updated_at=timezone.now()
    )
    return status


def deliver(reminder: Reminder, *, backend: Backend, resume: bool = False,
            wordings: dict[tuple[int, str], str | None] | None = None) -> str:  # fmt: skip
    """Send one claimed reminder; returns the status it ends in. Whatever goes
    wrong with one reminder (its wording, the backend) fails that one only."""
    try:
        return _deliver(reminder, backend=backend, resume=resume, wordings=wordings)
    except Exception as error:
        logger.exception("reminder %s: not sent", reminder.pk)
        return _settle(reminder, ReminderStatus.FAILED, f"{type(error).__name__}: {error}")


def _deliver(reminder: Reminder, *, backend: Backend, resume: bool,
             wordings: dict[tuple[int, str], str | None] | None) -> str:  # fmt: skip
    appointment = reminder.appointment
    # Read again just before sending: a move or a cancel since the claim wins.
    current = Appointment.objects.filter(pk=appointment.pk).values("start", "status").first()
    if current is None:
        return _settle(reminder, ReminderStatus.CANCELLED)
    appointment.start, appointment.status = current["start"], current["status"]
    now = timezone.now()
    if appointment.start <= now:
        return _settle(reminder, ReminderStatus.SKIPPED,
                       gettext_noop("The session started before the reminder could go out."))  # fmt: skip
    status = status_for_code(appointment.status, active_only=False)
    if status.releases or status.debits:
        return _settle(reminder, ReminderStatus.CANCELLED)
    due = current_due(appointment)
    if reminder.due_at != due:  # moved since the claim: it goes out at its new time
        Reminder.objects.filter(pk=reminder.pk, status=ReminderStatus.SENDING).update(
            status=ReminderStatus.SCHEDULED, due_at=due, updated_at=timezone.now()
        )
        return ReminderStatus.SCHEDULED
    package = appointment.patient_package
    to = routing.recipient(appointment.patient, reminder.channel, today=timezone.localdate(now),
                           sms_mobile=package.mobile if package else "")  # fmt: skip
    if not to.to:
        return _settle(reminder, ReminderStatus.SKIPPED, to.reason)
    # "To cancel:" a link that opens the patient's page (X7).
    cancel = patient_link(appointment.patient, appointment.clinic)
    words = reminder_text(appointment, to_guardian=to.to_guardian, cancel=cancel, now=now, wordings=wordings)
    draft = Draft(
        patient=appointment.patient, channel=reminder.channel, kind=MessageKind.REMINDER, to=to.to,
        to_guardian=to.to_guardian, subject=words.subject, text=words.text, key=f"reminder-{reminder.pk}",
        appointment=appointment.pk, params=words.params, language=words.language,
        status_callback=_callback(reminder.channel),
    )  # fmt: skip
    message = (message_resume if resume else message_send)(draft, backend=backend)
    if message.status in (MessageStatus.SENT, MessageStatus.DELIVERED):
        return _settle(reminder, ReminderStatus.SENT, message_id=message.pk)
    if message.status == MessageStatus.UNKNOWN:
        interrupted = gettext_noop("Interrupted while sending; not sent again to avoid a duplicate.")
        return _settle(reminder, ReminderStatus.FAILED, interrupted, message.pk)
    return _settle(reminder, ReminderStatus.FAILED, message.answer, message.pk)


def current_due(appointment: Appointment) -> dt.datetime:
    """When the reminder is due for the appointment as it is now."""
    from scheduling.reminders.services import lead_hours

    return appointment.start - dt.timedelta(hours=lead_hours(appointment))


def _callback(channel: str) -> str:
    return f"{settings.PUBLIC_URL}/messages/callbacks/twilio/" if channel == "sms" else ""
