"""Queueing background work.

A task must never run before the data it needs is committed, nor run for a
transaction that rolled back, nor be lost because the broker was down when
that transaction committed. `enqueue` writes the task to the outbox
(`OutboxMessage`) in the caller's transaction and, once it commits, sends it;
a message the broker refused stays in the outbox, and `relay_outbox` (run by
beat every minute, and so by a worker as soon as the broker is back) sends
it then. Each message is sent with its row's id as the task id, and
`clinic.celery.ClinicTask` skips a copy of a message that already ran.

With no broker (`CELERY_TASK_ALWAYS_EAGER`: no `REDIS_URL`, and the tests)
the task runs inline once the transaction commits, as before.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import Task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clinic.models import OutboxMessage

logger = logging.getLogger(__name__)

# The relay leaves a message this young to the `on_commit` send of the
# request that wrote it.
RELAY_GRACE = dt.timedelta(seconds=30)
RELAY_BATCH = 500
# Finished messages are kept this long (what ran, when), then purged.
KEEP_DONE = dt.timedelta(days=7)


def enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """Queue `task` once the current transaction commits (at once outside one)."""
    from clinic.celery import app

    if app.conf.task_always_eager:
        transaction.on_commit(lambda: task.delay(*args, **kwargs))
        return
    message = OutboxMessage.objects.create(task=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: send(message))


def send(message: OutboxMessage) -> bool:
    """Give one message to the broker; False (and the message kept) if it is down."""
    from clinic.celery import app

    try:
        app.send_task(message.task, args=message.args, kwargs=message.kwargs, task_id=str(message.pk), retry=False)
    except Exception as error:  # the broker's errors differ by transport; any of them keeps the message
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=F("attempts") + 1, last_error=repr(error)[:1000])
        logger.warning("Broker unreachable: task %s %s kept in the outbox (%r)", message.task, message.pk, error)
        return False
    OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    return True


def relay_outbox() -> int:
    """Send the messages the broker refused when they were written; the
    number sent. Rows are locked with SKIP LOCKED: two relays never send the
    same message, and a relay never waits for another."""
    sent = 0
    with transaction.atomic():
        pending = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lt=timezone.now() - RELAY_GRACE)
            .order_by("created_at")[:RELAY_BATCH]
        )
        for message in pending:
            if not send(message):
                break  # the broker is still down: the rest wait for the next run
            sent += 1
    OutboxMessage.objects.filter(done_at__lt=timezone.now() - KEEP_DONE).delete()
    return sent


def pending_count() -> int:
    return OutboxMessage.objects.filter(sent_at__isnull=True).count()
