"""Real services a fault test starts and stops itself: a Redis and a
PostgreSQL of their own on free loopback ports, so stopping one does not stop
the suite's shared ones (other xdist workers use those)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import psycopg
import redis

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_postgres_user(directory: Path) -> list[str]:
    """The prefix that runs a PostgreSQL program (which refuses root) as the
    postgres system user when this process is root; `directory` is given to it."""
    if os.geteuid() != 0:
        return []
    shutil.chown(directory, "postgres")
    return ["runuser", "-u", "postgres", "--"]


def test_database_url() -> str:
    """The test database this process uses, for a process it starts."""
    from django.db import connection

    db = connection.settings_dict
    credentials = f"{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_celery_worker(
    output: IO[Any], *, env: dict[str, str] | None = None, pool: str = "solo", include: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """A real `celery worker` process (one pool process) on the test database,
    taking this test process's queue, in a process group of its own; its
    output goes to `output`. `env` adds to the environment (the broker, a
    visibility timeout...), `include` names modules of extra tasks."""
    from django.conf import settings

    command = [
        sys.executable, "-m", "celery", "-A", "clinic", "worker", f"--pool={pool}", "--concurrency=1",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE,
        "--loglevel=WARNING", *(argument for module in include for argument in ("-I", module)),
    ]  # fmt: skip
    environment = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings_test", "DATABASE_URL": test_database_url(),
        **(env or {}),
    }  # fmt: skip
    return subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
        command, env=environment, cwd=settings.BASE_DIR, stdout=output, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def wait_until(ready: Callable[[], bool], timeout: float = STARTUP_TIMEOUT, what: str = "service") -> None:
    """Poll `ready` until it holds (a process starting up has no event to wait on)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.02)


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        wait_until(self.answers, what="redis-server")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False
        finally:
            client.close()


class PostgresServer:
    """A throwaway cluster (initdb, no durability) with one empty database."""

    def __init__(self) -> None:
        self.port = free_port()
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
        self.bin = Path(bins[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/clinic"
        self.as_user = as_postgres_user(self.dir)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")

    def _run(self, command: str, *args: str, check: bool = True) -> None:
        subprocess.run([*self.as_user, str(self.bin / command), *args], check=check, capture_output=True)  # noqa: S603

    def start(self) -> PostgresServer:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-o", options, "start")
        if not (self.dir / ".created").exists():
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "clinic")
            (self.dir / ".created").touch()
        return self

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def answers(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def remove(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class PgBouncer:
    """PgBouncer in transaction pooling in front of one database, logging in
    to it as `user`, with `pool_size` server connections for all its clients."""

    def __init__(self, *, host: str, port: int, database: str, user: str, pool_size: int = 1) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="clinic-pgbouncer-"))
        self.as_user = as_postgres_user(self.dir)
        (self.dir / "pgbouncer.ini").write_text(
            f"[databases]\nclinic = host={host} port={port} dbname={database} user={user}\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = any\npool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 20\n"
            f"ignore_startup_parameters = extra_float_digits,options\nlogfile = {self.dir}/pgbouncer.log\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PgBouncer:
        command = [*self.as_user, shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(self.dir / "pgbouncer.ini")]
        self.process = subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_until(self.listens, what="pgbouncer")
        return self

    def listens(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
                os.killpg(self.process.pid, signal.SIGKILL)  # runuser's child too
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
