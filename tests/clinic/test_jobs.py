from __future__ import annotations

import pytest
import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction

from clinic.jobs import enqueue

RAN: list[int] = []


@shared_task
def remember(value: int) -> None:
    RAN.append(value)


@pytest.fixture(autouse=True)
def _reset() -> None:
    RAN.clear()


@pytest.mark.django_db(transaction=True)
def test_task_runs_only_after_commit(settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with transaction.atomic():
        enqueue(remember, 1)
        assert RAN == []  # not before the data it needs is committed
    assert RAN == [1]


@pytest.mark.django_db(transaction=True)
def test_task_of_a_rolled_back_transaction_never_runs() -> None:
    def book_and_fail() -> None:
        with transaction.atomic():
            enqueue(remember, 2)
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError, match="rollback"):
        book_and_fail()
    assert RAN == []


@pytest.mark.django_db(transaction=True)
def test_task_goes_to_the_redis_broker_when_not_eager() -> None:
    from clinic.celery import app

    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client.delete(queue)
    app.conf.task_always_eager = False
    try:
        with transaction.atomic():
            enqueue(remember, 3)
            assert client.llen(queue) == 0
        assert client.llen(queue) == 1
    finally:
        app.conf.task_always_eager = True
        client.delete(queue)
    assert RAN == []  # queued for a worker, not run here
