"""Faults survived (issue 15): each test starts and stops a real Redis or
PostgreSQL of its own (tests/services.py), never the suite's shared ones."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import shared_task
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from kombu import pools

from clinic import jobs
from clinic.cache import FailoverRedisCache
from clinic.celery import MAX_RUNS, app
from clinic.models import OutboxMessage
from tests.conftest import api_client, login
from tests.scheduling.conftest import at
from tests.services import PostgresServer, RedisServer, free_port, start_celery_worker, wait_until

RAN: list[int] = []


@shared_task(acks_late=True)
def remember(value: int) -> None:
    RAN.append(value)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def cache_on(settings, redis_server: RedisServer) -> RedisServer:
    """The default cache on a Redis the test may stop."""
    settings.CACHES = {"default": {"BACKEND": "clinic.cache.FailoverRedisCache", "LOCATION": redis_server.url}}
    return redis_server


@pytest.fixture
def broker_on(redis_server: RedisServer) -> Iterator[RedisServer]:
    """Celery sends to a Redis the test may stop, not inline."""
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = redis_server.url, False
    _drop_connections()
    RAN.clear()
    yield redis_server
    app.conf.broker_url, app.conf.task_always_eager = previous
    _drop_connections()


def _drop_connections() -> None:
    """Forget the connections to the previous broker URL (kombu pools them per URL)."""
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def test_the_cache_counts_in_the_process_while_redis_is_down_and_says_so(redis_server, caplog) -> None:
    failover = FailoverRedisCache(redis_server.url, {})
    failover.set("hits", 1)
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="clinic.cache"):
        assert failover.get("hits") is None  # Redis's count is out of reach; the process starts its own
        assert failover.add("hits", 5) is True
        assert failover.incr("hits") == 6
        assert failover.get("hits") == 6
    assert failover.is_down
    [warning] = [r.getMessage() for r in caplog.records if r.name == "clinic.cache"]  # once per outage
    assert warning.startswith("Redis cache unreachable (")
    assert warning.endswith("): rate limits count per process until it answers again.")
    redis_server.start()  # empty: this Redis keeps nothing on disk
    failover._retry_at = 0  # the test does not wait out the retry interval
    assert failover.get("hits") is None  # Redis's answer again, not the process's 6
    assert not failover.is_down
    failover.set("hits", 2)
    assert len(redis.Redis.from_url(redis_server.url).keys("*hits")) == 1


@pytest.mark.django_db
def test_token_login_and_self_registration_work_with_redis_down(cache_on, alice, tenant_a, password) -> None:
    url = _registration_url(alice)
    cache_on.stop()
    response = Client().post(
        "/api/v1/auth/token/", {"username": "alice", "password": password}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token", "id"}
    visitor = Client()
    assert visitor.get(url).status_code == 200
    response = visitor.post(
        url, {"full_name": "Renata Nogueira", "birth_date": "1990-04-12", "mobile": "(11) 97777-1234"}
    )
    assert (response.status_code, response["Location"]) == (302, f"{url}done/")
    assert cache.is_down  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_token_throttle_still_limits_per_process_with_redis_down(cache_on, alice, password) -> None:
    cache_on.stop()
    client = Client()
    body = {"username": "alice", "password": password}
    # The per-account limit (10 a minute), counted in this process's memory.
    answers = [client.post("/api/v1/auth/token/", body, content_type="application/json") for _ in range(11)]
    assert [a.status_code for a in answers[:10]] == [200] * 10
    assert (answers[10].status_code, answers[10].json()["code"]) == (429, "throttled")


@pytest.mark.django_db
def test_booking_and_attending_work_with_redis_down(cache_on, bob, patient, therapist, physio_service, link) -> None:
    package = link(4, "1000.00")
    cache_on.stop()
    client = api_client(bob)
    response = client.post(
        "/api/v1/appointments/",
        {
            "patient": patient.pk, "professional": therapist.pk, "start": at(14, 9).isoformat(),
            "services": [{"service": physio_service.pk, "quantity": 1}], "patient_package": package.pk,
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    url = f"/api/v1/appointments/{response.json()['id']}/"
    assert client.patch(url, {"status": "attended", "confirm_future": True}, format="json").status_code == 200
    package.refresh_from_db()
    assert package.sessions_used == 1
    assert login(bob).get("/calendar/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_task_waits_in_the_outbox_while_the_broker_is_down_and_runs_once_when_back(broker_on, caplog) -> None:
    broker_on.stop()
    with caplog.at_level(logging.WARNING, logger="clinic.jobs"), transaction.atomic():
        jobs.enqueue(remember, 7)  # the request that decided it commits normally
    [message] = OutboxMessage.objects.all()
    assert (message.sent_at, message.attempts) == (None, 1)
    assert "kept in the outbox" in caplog.text
    assert jobs.pending_count() == 1

    broker_on.start()  # on the same port: the pooled connection reconnects by itself
    OutboxMessage.objects.update(created_at=message.created_at.replace(year=2000))  # past the relay's grace
    assert jobs.relay_outbox() == 1
    assert jobs.relay_outbox() == 0  # sent once
    # The same message delivered twice (a relay that lost its acknowledgement): it runs once.
    app.send_task(remember.name, args=[7], task_id=str(message.pk))
    queue = app.conf.task_default_queue
    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, queues=[queue], loglevel="WARNING"):
        wait_until(lambda: OutboxMessage.objects.filter(pk=message.pk, done_at__isnull=False).exists(), what="task")
        wait_until(lambda: broker_on_queue_empty(broker_on, queue), what="second copy")
    assert RAN == [7]


def broker_on_queue_empty(server: RedisServer, queue: str) -> bool:
    client = redis.Redis.from_url(server.url)
    try:
        return client.llen(queue) == 0 and not client.hlen("unacked")
    finally:
        client.close()


@pytest.mark.django_db(transaction=True)
def test_a_message_started_too_often_without_ending_is_given_up(broker_on) -> None:
    """A task that kills its worker each time (out of memory) is handed back
    each time: after MAX_RUNS starts it is given up instead of looping."""
    with transaction.atomic():
        jobs.enqueue(remember, 1)
        jobs.enqueue(remember, 2)
    last, over = OutboxMessage.objects.order_by("args")
    OutboxMessage.objects.filter(pk=last.pk).update(runs=MAX_RUNS - 1)  # starts that never ended
    OutboxMessage.objects.filter(pk=over.pk).update(runs=MAX_RUNS)
    queue = app.conf.task_default_queue
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append  # type: ignore[method-assign]  (the worker takes the root logger's handlers)
    logging.getLogger("clinic.celery").addHandler(handler)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], loglevel="WARNING"):
            wait_until(lambda: not OutboxMessage.objects.filter(done_at__isnull=True).exists(), what="both messages")
            wait_until(lambda: broker_on_queue_empty(broker_on, queue), what="queue")
    finally:
        logging.getLogger("clinic.celery").removeHandler(handler)
    assert RAN == [1]  # the tenth start ran; the eleventh was not made
    last.refresh_from_db()
    over.refresh_from_db()
    assert (last.runs, last.last_error) == (MAX_RUNS, "")
    assert (over.runs, over.last_error) == (MAX_RUNS, f"given up after {MAX_RUNS} runs that did not end")
    assert [record.getMessage() for record in errors] == [
        f"Task {remember.name} {over.pk} given up after {MAX_RUNS} runs that did not end"
    ]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_outbox_message(broker_on) -> None:
    def book_and_fail() -> None:
        with transaction.atomic():
            jobs.enqueue(remember, 8)
            raise RuntimeError("rollback")

    with pytest.raises(RuntimeError, match="rollback"):
        book_and_fail()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_leaves_nothing_half_done_and_the_task_runs_again_once(broker_on, tmp_path) -> None:
    """Real `celery worker` processes on the test database: the pool process
    running the task is killed, then the whole worker, each in the middle of
    the task's transaction; a new worker finishes it, once."""
    from django.contrib.auth import get_user_model

    from tests.scheduling.worker_tasks import write_two_users

    users = get_user_model().objects.filter(username__in=["first-half", "second-half"])
    with transaction.atomic():
        jobs.enqueue(write_two_users, str(tmp_path), 2)
    [message] = OutboxMessage.objects.all()
    assert message.sent_at is not None

    log = tmp_path / "worker.log"
    worker = _start_worker(broker_on, log)
    try:
        wait_until(lambda: (tmp_path / "run-1").exists(), what="first run")
        os.kill(int((tmp_path / "run-1").read_text()), signal.SIGKILL)  # the pool process (the OOM killer)
        # Handed back at once (reject on worker lost) and run again by a new pool process.
        wait_until(lambda: (tmp_path / "run-2").exists(), what="second run")
        assert not users.exists()  # the killed run's first write was rolled back
        os.killpg(worker.pid, signal.SIGKILL)  # now the whole worker, with its task unacknowledged
        worker.wait()
        assert not users.exists()
        message.refresh_from_db()
        assert message.done_at is None

        # The next worker takes the unacknowledged task back, once it is older
        # than the visibility timeout (the worker looks when it starts).
        wait_until(lambda: _unacknowledged_for(broker_on) > 1.5, what="the visibility timeout")
        worker = _start_worker(broker_on, log, visibility_timeout=1)
        try:
            wait_until(lambda: OutboxMessage.objects.filter(pk=message.pk, done_at__isnull=False).exists(), what="task")
        except TimeoutError as error:
            raise AssertionError(f"{error}; the workers' log ends:\n{log.read_text()[-3000:]}") from error
        wait_until(lambda: broker_on_queue_empty(broker_on, app.conf.task_default_queue), what="queue")
    finally:
        with contextlib.suppress(ProcessLookupError):  # killed and reaped already, if a step above failed
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert sorted(users.values_list("username", flat=True)) == ["first-half", "second-half"]
    assert sorted(path.name for path in tmp_path.glob("run-*")) == ["run-1", "run-2", "run-3"]


def _unacknowledged_for(server: RedisServer) -> float:
    """Seconds since the oldest unacknowledged message was delivered (0: none)."""
    client = redis.Redis.from_url(server.url)
    try:
        oldest = client.zrange("unacked_index", 0, 0, withscores=True)
    finally:
        client.close()
    return time.time() - oldest[0][1] if oldest else 0.0


def _start_worker(broker: RedisServer, log: Path, visibility_timeout: int = 3600) -> subprocess.Popen[bytes]:
    """`celery worker` (prefork, one pool process) on this test's database and
    broker, its output appended to `log`."""
    with log.open("ab") as output:  # the child keeps its own copy of the file
        return start_celery_worker(
            output, pool="prefork", include=("tests.scheduling.worker_tasks",),
            env={"REDIS_URL": broker.url, "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout)},
        )  # fmt: skip


def _registration_url(owner) -> str:
    client = login(owner)
    assert client.post("/patients/settings/self-registration/", {"action": "generate"}).status_code == 302
    content = client.get("/patients/settings/self-registration/").content.decode()
    return re.search(r"http://testserver(/register/[\w-]+/)", content).group(1)


def test_a_postgresql_restart_fails_requests_only_while_it_is_down() -> None:
    """gunicorn with persistent, health-checked connections (production's
    settings) on a PostgreSQL of its own, restarted under it."""
    database = PostgresServer().start()
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": database.url, "DEBUG": "false", "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1", "CONN_MAX_AGE": "600", "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }  # fmt: skip
    server = subprocess.Popen(  # noqa: S603  (our own interpreter's gunicorn)
        [str(Path(sys.executable).parent / "gunicorn"), "clinic.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: _health(port) is not None, what="gunicorn")
        assert _health(port) == 200
        database.stop()
        assert _health(port) == 503  # the restart's own failed request
        database.start()
        # The kept connection died with the old server; the health check reopens it.
        assert [_health(port) for _ in range(3)] == [200, 200, 200]
    finally:
        server.kill()
        server.wait()
        database.remove()


def _health(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError):
        return None
