"""Queueing background work.

A task must never run before the data it needs is committed, nor run for a
transaction that rolled back: it is queued with `transaction.on_commit`.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction


def enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """Queue `task` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs))
