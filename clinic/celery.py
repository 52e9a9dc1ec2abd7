"""The Celery application.

Configured from Django settings (`CELERY_*`), whose broker is `REDIS_URL`; with
no `REDIS_URL` the tasks run inline (`task_always_eager`), so a laptop needs no
broker. Tasks receive ids, never model instances, and open the tenant scope
themselves (see `clinic.jobs`).
"""

import logging
import os
import uuid
from typing import Any

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
logger = logging.getLogger(__name__)


class ClinicTask(Task):
    """Every task of the app. A task sent from the outbox (`clinic.jobs`) has
    its message's id as task id: a copy delivered again after the message
    ran (a relay that sent it twice, a redelivery after a lost
    acknowledgement) is skipped, and the message is marked done when the body
    returns. A body that fails or a worker killed mid-task leaves it not done,
    and the late acknowledgement has the broker deliver it again; tasks are
    written to be run again safely (each checks what is already done). Each
    start is counted: after MAX_RUNS starts that never ended (a task that
    kills its worker, out of memory, each time) the message is given up,
    logged as an error, instead of being delivered forever."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        message_id = None if self.request.is_eager else _message_id(self.request.id)
        if message_id is None:
            return super().__call__(*args, **kwargs)
        from django.db.models import F
        from django.utils import timezone

        from clinic.models import OutboxMessage

        message = OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True)
        if not message.filter(runs__lt=MAX_RUNS).update(runs=F("runs") + 1):
            # Done already, or started MAX_RUNS times without ending: a task
            # that kills its worker each time is given up, not delivered forever.
            if message.update(done_at=timezone.now(), last_error=f"given up after {MAX_RUNS} runs that did not end"):
                logger.error("Task %s %s given up after %d runs that did not end", self.name, message_id, MAX_RUNS)
            return None
        result = super().__call__(*args, **kwargs)
        OutboxMessage.objects.filter(pk=message_id).update(done_at=timezone.now())
        return result


# Runs of one outbox message: retries (at most 5 for the app's tasks) and
# redeliveries after a killed worker count, so this leaves room for both.
MAX_RUNS = 10


def _message_id(task_id: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(task_id) if task_id else None
    except ValueError:
        return None


app = Celery("clinic", task_cls=ClinicTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
