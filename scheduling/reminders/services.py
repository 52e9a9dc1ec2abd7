"""Keeping each appointment's reminders in step with it (A7).

`sync` is a step of scheduling's entry points, run after their locks: the
appointment is locked, so its reminder rows change under that lock only.
Booking writes the rows (one per channel the clinic sends reminders on);
moving moves the unsent ones; a releasing status (cancelled, justified
absence) or attending cancels them, and undoing that schedules them again. A
reminder already sent stays sent: a session is reminded once per channel.

The lead time is the appointment's own, else its package link's, else the
clinic's; 0 means no reminder.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from scheduling.models import Appointment, AppointmentStatus
from scheduling.reminders.models import Reminder, ReminderStatus

KIND = "reminder"
# What a change may still move: rows not yet claimed, or given up.
OPEN = (ReminderStatus.SCHEDULED, ReminderStatus.CANCELLED, ReminderStatus.SKIPPED)


def lead_hours(appointment: Appointment) -> int:
    if appointment.reminder_hours is not None:
        return appointment.reminder_hours
    package = appointment.patient_package if appointment.patient_package_id else None
    if package is not None and package.reminder_hours is not None:
        return package.reminder_hours
    return appointment.clinic.reminder_hours


def _wanted(appointment: Appointment, status: AppointmentStatus) -> tuple[dt.datetime | None, list[str]]:
    """When its reminders are due and on which channels (none: no reminder)."""
    if status.releases or status.debits or appointment.start <= timezone.now():
        return None, []  # (checked first: attending reads no package and no clinic)
    hours = lead_hours(appointment)
    if hours == 0:
        return None, []
    return appointment.start - dt.timedelta(hours=hours), list(appointment.clinic.reminder_channels)


def booked(appointment: Appointment, status: AppointmentStatus) -> None:
    """Step: a new appointment's reminders (it has none yet: one INSERT)."""
    due, channels = _wanted(appointment, status)
    if due is not None:
        Reminder.objects.bulk_create([
            Reminder(organization_id=appointment.organization_id, appointment=appointment, channel=channel,
                     kind=KIND, due_at=due)
            for channel in channels
        ])  # fmt: skip


def sync(appointment: Appointment, status: AppointmentStatus) -> None:
    """Step: after a move, a status change or a new package link."""
    due, channels = _wanted(appointment, status)
    rows = Reminder.objects.filter(appointment=appointment, kind=KIND)
    if due is None:
        if appointment.start > timezone.now():
            # A session that started has no reminder left to cancel (the sweep
            # never sends one after the start): attending one writes nothing.
            rows.filter(status=ReminderStatus.SCHEDULED).update(
                status=ReminderStatus.CANCELLED, updated_at=timezone.now()
            )
        return
    existing = {reminder.channel: reminder for reminder in rows}
    rows.filter(status=ReminderStatus.SCHEDULED).exclude(channel__in=channels).update(
        status=ReminderStatus.CANCELLED, updated_at=timezone.now()
    )
    new = []
    for channel in channels:
        reminder = existing.get(channel)
        if reminder is None:
            new.append(Reminder(organization_id=appointment.organization_id, appointment=appointment,
                                channel=channel, kind=KIND, due_at=due))  # fmt: skip
        elif reminder.status in OPEN and (reminder.status, reminder.due_at) != (ReminderStatus.SCHEDULED, due):
            reminder.status, reminder.due_at, reminder.note = ReminderStatus.SCHEDULED, due, ""
            reminder.save(update_fields=["status", "due_at", "note", "updated_at"])
    Reminder.objects.bulk_create(new)
