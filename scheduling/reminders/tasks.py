from __future__ import annotations

from celery import shared_task

from scheduling.reminders import sweep


@shared_task(acks_late=True)
def send_due_reminders() -> dict[str, int]:
    """Beat, every minute: the reminders due now, each sent once."""
    return sweep.send_due().by_status
