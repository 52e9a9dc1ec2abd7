"""A task for the worker-killed fault test (`test_faults.py`), which a real
`celery worker` process imports (`-I tests.scheduling.worker_tasks`)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from celery import shared_task
from django.db import transaction


@shared_task(acks_late=True)
def write_two_users(directory: str, stops: int) -> None:
    """Write two users in one transaction. Each of the first `stops` runs
    writes the first, leaves `run-N` (its process id) in `directory` and waits
    between the two to be killed."""
    from clinic.models import User

    run = len(list(Path(directory).glob("run-*"))) + 1
    with transaction.atomic():
        User.objects.create(username="first-half")
        written = Path(directory) / f".run-{run}"
        written.write_text(str(os.getpid()))
        written.rename(Path(directory) / f"run-{run}")  # whole, for the test reading it
        while run <= stops:
            signal.pause()
        User.objects.create(username="second-half")
