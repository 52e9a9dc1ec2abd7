"""The Celery application.

Configured from Django settings (`CELERY_*`), whose broker is `REDIS_URL`; with
no `REDIS_URL` the tasks run inline (`task_always_eager`), so a laptop needs no
broker. Tasks receive ids, never model instances, and open the tenant scope
themselves (see `clinic.jobs`).
"""

import os
import uuid
from typing import Any

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")


class ClinicTask(Task):
    """Every task of the app. A task sent from the outbox (`clinic.jobs`) has
    its message's id as task id: a copy delivered again after the message
    ran (a relay that sent it twice, a redelivery after a lost
    acknowledgement) is skipped, and the message is marked done when the body
    returns. A body that fails or a worker killed mid-task leaves it not done,
    and the late acknowledgement has the broker deliver it again; tasks are
    written to be run again safely (each checks what is already done)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        message_id = None if self.request.is_eager else _message_id(self.request.id)
        if message_id is None:
            return super().__call__(*args, **kwargs)
        from django.utils import timezone

        from clinic.models import OutboxMessage

        if OutboxMessage.objects.filter(pk=message_id, done_at__isnull=False).exists():
            return None
        result = super().__call__(*args, **kwargs)
        OutboxMessage.objects.filter(pk=message_id).update(done_at=timezone.now())
        return result


def _message_id(task_id: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(task_id) if task_id else None
    except ValueError:
        return None


app = Celery("clinic", task_cls=ClinicTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
