"""Booking throughput through a real server, against a trivial API read.

    scripts/with-test-services .venv/bin/python bench/booking_throughput.py

Starts `gunicorn clinic.wsgi:application --workers 4 --threads 1` (`--workers N`) on a free
loopback port (settings `clinic.settings_test`, `DEBUG=false`,
`ALLOWED_HOSTS=127.0.0.1`, the environment's Redis, and the throwaway
database this script creates), prepares one organization with a clinic, an
owner with an API token, one professional per client, a 30-minute service and
patients each holding a 10-session package (`ledger.package_link`), then runs
8 client threads, each on its own keep-alive `http.client` connection to
127.0.0.1, in two scenarios on the same server:

- A "book + attend": `POST /api/v1/appointments/` with the patient's package
  (reserving a session), then `PATCH {"status": "attended", "confirm_future": true}` (debiting
  it; the slots are ahead, so the API asks for the confirmation);
- B "trivial GET": `GET /api/v1/clinics/`, the same authentication, tenant
  middleware and DRF path with a one-row query.

The two scenarios alternate in eight short rounds (B, A, B, A, ...;
`--rounds`), so that a change in the machine's load meanwhile falls on both:
on a shared virtual machine the speed of the host drifts by a quarter within
a minute. In a round each client does a fixed number of operations or stops
at 2 seconds, whichever comes first; ops/s is the operations that succeeded
divided by the wall time from the start signal to the last client's end,
summed over the rounds. Each round's ratio is printed too, with their median
and spread, to show the noise. The ratio A/B
is the figure to watch: what a booking costs compared with the cheapest
authenticated request, on the same machine in the same run. Each client books
its own professional's consecutive slots and its own patients' packages, so
the figure measures the write path, not lock waits between clients.

Both scenarios run once per server configuration (`--connections`, both by
default, each on its own gunicorn started for it):

- "env": the server inherits the environment's `CONN_MAX_AGE` and
  `CONN_HEALTH_CHECKS`, or the settings' defaults when they are unset (with
  `clinic.settings_test`, `CONN_MAX_AGE` 0: one PostgreSQL connection per
  request);
- "persistent": `CONN_MAX_AGE=60` and `CONN_HEALTH_CHECKS=true`, the
  production default (the server's settings line below says what took).

Before each, a short Python run with the server's environment prints the
database settings it gets, and the script counts the PostgreSQL sessions
opened during each scenario (`pg_stat_database.sessions`), which shows
whether the workers kept their connections.

Afterwards, in this process: every package must reconcile with its ledger
(`ledger.package_reconcile`), every live unit with its appointment's status
(`scheduling.package_sessions.sessions_reconcile`), and hold exactly the
sessions the clients saw debited, and no professional may have two
overlapping appointments.

Notes for reading the figures: gunicorn's sync workers close the connection
after each response, so `http.client` reconnects per request (cheap on
loopback, and alike in both scenarios); the clients run in this process and
share its interpreter lock with nothing else but each other; the throwaway
PostgreSQL runs with `fsync=off`, so commits are cheaper than on a production
disk and the booking rate is an upper bound. Connecting per request
(`CONN_MAX_AGE=0`) weighs more on the trivial GET than on the booking.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import _harness  # first: sets Django up
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from clinic import resources, services, tokens
from clinic.models import Organization
from clinic.tenancy import organization_scope
from packages.catalog.services import service_create
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from patients import services as patient_services
from scheduling.models import Appointment
from scheduling.package_sessions import sessions_reconcile

CLIENTS = 8
WORKERS = 4
HOST = "127.0.0.1"  # the only address this script talks to
SESSIONS = 10  # per package
ROUNDS = 8  # B then A, eight times, per configuration (the default of --rounds)
BOOKINGS_PER_CLIENT = 25  # per round (about twice what 2 seconds allow)
GETS_PER_CLIENT = 1_000  # per round
WARM_UP_BOOKINGS = 2  # per client, not timed
WARM_UP_GETS = 10
MAX_SECONDS = 2.0  # per scenario and round
SLOT_MINUTES = 30
REQUEST_TIMEOUT = 30.0
SERVER_START_TIMEOUT = 30.0


@dataclass
class Client:
    """What one client thread books: its professional, its patients' packages
    (in order, ten sessions each) and its next free slot."""

    professional: int
    packages: list[tuple[int, int]]  # (patient id, package id)
    next_slot: dt.datetime
    booked: int = 0  # bookings made so far, which decides the package to use
    # package id -> sessions this client saw debited (PATCH answered 200)
    debited: Counter[int] = field(default_factory=Counter)


@dataclass
class Fixture:
    organization: Organization
    token: str
    service: int
    clients: list[Client]


@dataclass(frozen=True)
class Configuration:
    """How the server connects to PostgreSQL: None keeps the environment's
    value (or the settings' default)."""

    name: str
    conn_max_age: str | None = None
    health_checks: bool = False

    def describe(self) -> str:
        if self.conn_max_age is None:
            given = {name: _harness.STARTING_ENVIRONMENT.get(name) for name in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
            return f"{self.name}: " + ", ".join(f"{name}={value or '(unset)'}" for name, value in given.items())
        checks = ", CONN_HEALTH_CHECKS=true" if self.health_checks else ""
        return f"{self.name}: CONN_MAX_AGE={self.conn_max_age}{checks}"


CONFIGURATIONS = {
    "env": Configuration("env"),
    "persistent": Configuration("persistent", "60", health_checks=True),
}


def prepare(packages_per_client: int) -> Fixture:
    organization, clinic, owner = services.organization_create(
        name="Benchmark clinic",
        owner_username="bench-owner",
        owner_password=secrets.token_urlsafe(16),
        clinic_name="Benchmark central",
    )
    token = tokens.token_issue(user=owner, name="bench")[1]
    # Tomorrow at midnight: every booking is in the future, whatever the run's length.
    first_slot = (timezone.now() + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    clients = []
    with organization_scope(organization):
        service = service_create(
            clinic=clinic, name="Sessão de fisioterapia", code="FIS-SES", price=Decimal("100.00"),
            duration_minutes=SLOT_MINUTES,
        )  # fmt: skip
        for c in range(CLIENTS):
            professional = resources.professional_create(clinic=clinic, name=f"Profissional {c:02d}")
            packages = []
            for n in range(packages_per_client):
                patient = patient_services.patient_create(
                    clinic=clinic, fields={"full_name": f"Paciente {c:02d}-{n:03d}"}, professionals=[professional]
                )
                package = ledger.package_link(
                    patient=patient, clinic=clinic, actor=owner, sessions=SESSIONS, total_price=Decimal("1000.00")
                )
                packages.append((patient.pk, package.pk))
            clients.append(Client(professional.pk, packages, first_slot))
    return Fixture(organization, token, service.pk, clients)


# The server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """The environment's DATABASE_URL pointed at the throwaway database the
    harness created (`test_<name>`): the server writes where this script reads."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def server_environment(configuration: Configuration) -> dict[str, str]:
    """The environment the benchmark started with (not the defaults its own
    settings added), with the server's settings and the configuration's."""
    env = {
        **_harness.STARTING_ENVIRONMENT,
        "DJANGO_SETTINGS_MODULE": "clinic.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "DEBUG": "false",
        "ALLOWED_HOSTS": HOST,
        "LOG_LEVEL": "ERROR",  # 4xx warnings would flood the log; errors still show
    }
    if configuration.conn_max_age is not None:
        env["CONN_MAX_AGE"] = configuration.conn_max_age
    if configuration.health_checks:
        env["CONN_HEALTH_CHECKS"] = "true"
    return env


PROBE = (
    "import django, json; django.setup(); from django.conf import settings; d = settings.DATABASES['default']; "
    "print(json.dumps({k: d.get(k) for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')}))"
)


def probe_settings(configuration: Configuration) -> str:
    """The database settings a process started with the server's environment gets."""
    # The command is this interpreter and a constant: no outside input.
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE], cwd=_harness.ROOT, env=server_environment(configuration),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if done.returncode:
        return f"probe failed: {done.stderr.strip()[-300:]}"
    return ", ".join(f"{key}={value!r}" for key, value in json.loads(done.stdout.strip().splitlines()[-1]).items())


def sessions_opened() -> int:
    """PostgreSQL sessions ever opened on this database (its statistics, which
    a backend flushes within a second or so of going idle, or when it exits)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        (sessions,) = cursor.fetchone()
    return int(sessions)


@contextlib.contextmanager
def server(configuration: Configuration, workers: int) -> Iterator[int]:
    """gunicorn on a free loopback port; stopped (and waited for) on the way
    out, whatever happened. Its output goes to a file, printed if it fails."""
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
    command += ["clinic.wsgi:application", "--workers", str(workers), "--threads", "1", "--bind", f"{HOST}:{port}"]
    env = server_environment(configuration)
    with tempfile.TemporaryFile(mode="w+") as log:
        # The command is this script's constants and the venv's gunicorn: no outside input.
        process = subprocess.Popen(command, cwd=_harness.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            wait_until_ready(process, port)
            yield port
        except BaseException:
            log.seek(0)
            tail = log.read()[-3000:]
            if tail:
                print(f"--- gunicorn output (last 3000 characters) ---\n{tail}\n---", file=sys.stderr)
            raise
        finally:
            process.terminate()  # SIGTERM: gunicorn's graceful stop of its workers
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_ready(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            connection_ = http.client.HTTPConnection(HOST, port, timeout=2)
            connection_.request("GET", "/healthz")
            response = connection_.getresponse()
            response.read()
            connection_.close()
            if response.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {SERVER_START_TIMEOUT:.0f} s")


def server_cpu(port: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) used so far by each of the server's
    processes on this machine: gunicorn's workers on `port`, and PostgreSQL's
    backends on the benchmark's database (its connections: persistent ones
    live across rounds, per-request ones are caught while they live). Read
    from /proc; on another system, nothing (the table then shows no CPU)."""
    clock = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    database = str(connection.settings_dict["NAME"])
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        if "gunicorn" in command and f"{HOST}:{port}" in command:
            kind = "gunicorn"
        elif command.startswith("postgres: ") and f" {database} " in command:
            kind = "postgres"
        else:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
        found[int(entry.name)] = (kind, (int(fields[11]) + int(fields[12])) / clock)  # utime, stime
    return found


# The clients


class Api:
    """One client's connection: keep-alive where the server allows it
    (http.client reopens the socket when the server closed it)."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, body: object | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()  # the next request opens a new socket
            raise

    def close(self) -> None:
        self.connection.close()


def book_and_attend(api: Api, fixture: Fixture, client: Client) -> str | None:
    """One operation of scenario A; None when both requests succeeded, else what failed."""
    patient, package = client.packages[client.booked // SESSIONS]
    start = client.next_slot
    client.next_slot += dt.timedelta(minutes=SLOT_MINUTES)
    client.booked += 1
    status, body = api.call(
        "POST",
        "/api/v1/appointments/",
        {
            "patient": patient,
            "professional": client.professional,
            "start": start.isoformat(),
            "services": [{"service": fixture.service}],
            "patient_package": package,
        },
    )
    if status != 201:
        return f"POST {status}: {body[:200]!r}"
    appointment = json.loads(body)["id"]
    attended = {"status": "attended", "confirm_future": True}
    status, body = api.call("PATCH", f"/api/v1/appointments/{appointment}/", attended)
    if status != 200:
        return f"PATCH {status}: {body[:200]!r}"
    client.debited[package] += 1
    return None


def trivial_get(api: Api, fixture: Fixture, client: Client) -> str | None:
    status, body = api.call("GET", "/api/v1/clinics/")
    return None if status == 200 else f"GET {status}: {body[:200]!r}"


Operation = Callable[[Api, Fixture, Client], "str | None"]


@dataclass
class Result:
    scenario: str
    requests_per_op: int
    configuration: str = ""
    sessions_opened: int = 0  # PostgreSQL sessions opened meanwhile (the server's, mostly)
    done: int = 0
    failed: int = 0
    seconds: float = 0.0
    timed_out: int = 0  # clients (in all rounds) stopped by MAX_SECONDS before their count
    errors: list[str] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)  # ops/s of each round
    # CPU seconds the server's processes used meanwhile: gunicorn's workers, PostgreSQL's backends
    cpu: Counter[str] = field(default_factory=Counter)

    def cpu_ms_per_op(self, kind: str | None = None) -> float:
        used = sum(self.cpu.values()) if kind is None else self.cpu[kind]
        return 1000 * used / self.done if self.done else 0.0

    @property
    def ops_per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def add(self, other: Result) -> None:
        """Another round of the same scenario."""
        self.done += other.done
        self.failed += other.failed
        self.seconds += other.seconds
        self.timed_out += other.timed_out
        self.sessions_opened += other.sessions_opened
        self.errors += other.errors
        self.rounds.append(other.ops_per_second)
        self.cpu.update(other.cpu)


def measured(
    configuration: Configuration, scenario: str, operation: Operation, fixture: Fixture, port: int, count: int,
    requests_per_op: int,
) -> Result:  # fmt: skip
    """`run`, with the PostgreSQL sessions opened and the server's CPU time while it ran."""
    before = sessions_opened()
    cpu_before = server_cpu(port)
    result = run(scenario, operation, fixture, port, count, requests_per_op)
    cpu_after = server_cpu(port)
    for pid, (kind, seconds) in cpu_after.items():
        result.cpu[kind] += seconds - cpu_before.get(pid, (kind, 0.0))[1]
    time.sleep(0.5)  # let the workers' backends that exit flush their statistics
    result.configuration = configuration.name
    result.sessions_opened = sessions_opened() - before
    return result


def run(scenario: str, operation: Operation, fixture: Fixture, port: int, count: int, requests_per_op: int) -> Result:
    """CLIENTS threads, `count` operations each or MAX_SECONDS, whichever first."""
    result = Result(scenario, requests_per_op)
    lock = threading.Lock()
    ready = threading.Barrier(CLIENTS + 1)
    deadline = [0.0]

    def worker(client: Client) -> None:
        api = Api(port, fixture.token)
        done = failed = 0
        errors: list[str] = []
        stopped_by_time = False
        try:
            ready.wait()
            for _ in range(count):
                if time.perf_counter() >= deadline[0]:
                    stopped_by_time = True
                    break
                try:
                    error = operation(api, fixture, client)
                except Exception as exception:  # counted and shown: a benchmark reports, it does not stop
                    error = f"{type(exception).__name__}: {exception}"
                if error is None:
                    done += 1
                else:
                    failed += 1
                    errors.append(error)
        finally:
            api.close()
            with lock:
                result.done += done
                result.failed += failed
                result.timed_out += stopped_by_time
                result.errors.extend(errors)

    threads = [threading.Thread(target=worker, args=(client,), daemon=True) for client in fixture.clients]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + MAX_SECONDS
    ready.wait()
    for thread in threads:
        thread.join(MAX_SECONDS + 2 * REQUEST_TIMEOUT)
    result.seconds = time.perf_counter() - began
    if any(thread.is_alive() for thread in threads):
        result.errors.append("a client thread did not finish in time")
    return result


# The checks


def verify(fixture: Fixture) -> list[str]:
    problems: list[str] = []
    debited: Counter[int] = Counter()
    for client in fixture.clients:
        debited.update(client.debited)
    with organization_scope(fixture.organization):
        packages = list(PatientPackage.objects.order_by("pk"))
        for package in packages:
            drift = ledger.package_reconcile(package)
            if drift.differences:
                problems.append(f"package {package.number} does not reconcile: {drift.differences}")
            sessions = sessions_reconcile(package)
            if sessions.differences:
                problems.append(f"package {package.number}: units against appointments {sessions.differences}")
            if package.sessions_used != debited[package.pk]:
                problems.append(
                    f"package {package.number}: {package.sessions_used} sessions used, "
                    f"{debited[package.pk]} debits answered 200"
                )
        appointments = list(
            Appointment.objects.filter(holds_slot=True, professional__isnull=False)
            .order_by("professional_id", "start")
            .values_list("pk", "professional_id", "start", "end")
        )
    overlaps = [(a[0], b[0]) for a, b in itertools.pairwise(appointments) if a[1] == b[1] and b[2] < a[3]]
    for first, second in overlaps[:10]:
        problems.append(f"double booking: appointments {first} and {second}")
    print(
        f"checked: {len(packages)} packages reconciled with their ledgers and appointments "
        f"({sum(debited.values())} debits), {len(appointments)} appointments of "
        f"{len({a[1] for a in appointments})} professionals, {len(overlaps)} overlapping pairs"
    )
    return problems


def run_configuration(
    configuration: Configuration, fixture: Fixture, rounds: int, workers: int
) -> tuple[Result, Result]:
    """Warm-up, then B and A in turn, `rounds` times, on a server of its own."""
    print(f"server configuration {configuration.describe()}")
    print(f"  the server's settings: {probe_settings(configuration)}")
    with server(configuration, workers) as port:
        print(
            f"  gunicorn clinic.wsgi:application --workers {workers} --threads 1 --bind {HOST}:{port}; "
            f"{CLIENTS} clients, {rounds} rounds of at most {MAX_SECONDS:.0f} s per scenario"
        )
        # Warm-up: the workers' first requests load URLconfs, DRF and the ORM's caches.
        warm_ups = [
            run("warm-up GET", trivial_get, fixture, port, WARM_UP_GETS, 1),
            run("warm-up booking", book_and_attend, fixture, port, WARM_UP_BOOKINGS, 2),
        ]
        for warm_up in warm_ups:
            for error in warm_up.errors[:5]:
                print(f"  {warm_up.scenario}: {error}")
        trivial = Result("B trivial GET /api/v1/clinics/", 1, configuration.name)
        booking = Result("A book + attend (POST, PATCH)", 2, configuration.name)
        for _ in range(rounds):
            trivial.add(measured(configuration, trivial.scenario, trivial_get, fixture, port, GETS_PER_CLIENT, 1))
            booking.add(measured(configuration, booking.scenario, book_and_attend, fixture, port,
                                 BOOKINGS_PER_CLIENT, 2))  # fmt: skip
        return trivial, booking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--connections", choices=["env", "persistent", "both"], default="both",
        help="server configuration: the environment's CONN_MAX_AGE, CONN_MAX_AGE=60 with health checks, or both",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds of B then A (default {ROUNDS})")
    parser.add_argument(
        "--workers", type=int, default=WORKERS,
        help=f"gunicorn's sync workers (default {WORKERS}; {CLIENTS}: one per client, no request waits for a worker)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.rounds < 1 or args.workers < 1:
        parser.error("--rounds and --workers: at least 1")
    configurations = list(CONFIGURATIONS.values()) if args.connections == "both" else [CONFIGURATIONS[args.connections]]
    # Room for every configuration's bookings and warm-ups, ten sessions a package.
    bookings_per_client = len(configurations) * (args.rounds * BOOKINGS_PER_CLIENT + WARM_UP_BOOKINGS)
    packages_per_client = math.ceil(bookings_per_client / SESSIONS)

    with _harness.throwaway_database():
        print(_harness.environment())
        fixture = prepare(packages_per_client)
        print(
            f"fixture: {CLIENTS} professionals, {CLIENTS * packages_per_client} patients with a "
            f"{SESSIONS}-session package each; redis {'on' if settings.REDIS_URL else 'off'}\n"
        )
        connections.close_all()  # the server's workers open their own
        sessions_opened()  # this script's one connection, for the statistics, opened before any count
        results: list[Result] = []
        for configuration in configurations:
            results += run_configuration(configuration, fixture, args.rounds, args.workers)
        print()
        _harness.print_table(
            ["configuration: scenario", "ops", "failed", "seconds", "ops/s", "requests/s", "pg sessions opened",
             "stopped at time limit", "server CPU ms/op (gunicorn + postgres)"],
            [
                (
                    f"{r.configuration}: {r.scenario}", r.done, r.failed, f"{r.seconds:.2f}", f"{r.ops_per_second:.1f}",
                    f"{r.ops_per_second * r.requests_per_op:.1f}", r.sessions_opened,
                    f"{r.timed_out} of {CLIENTS * args.rounds} client-rounds",
                    f"{r.cpu_ms_per_op():.2f} ({r.cpu_ms_per_op('gunicorn'):.2f} + {r.cpu_ms_per_op('postgres'):.2f})",
                )
                for r in results
            ],
        )  # fmt: skip
        print()
        for trivial, booking in zip(results[::2], results[1::2], strict=True):
            if not (trivial.ops_per_second and booking.ops_per_second):
                print(f"ratio A/B, {booking.configuration}: no booking or no GET succeeded")
                continue
            by_round = [a / b if b else None for a, b in zip(booking.rounds, trivial.rounds, strict=True)]
            ratios = sorted(r for r in by_round if r is not None)
            print(
                f"ratio A/B, {booking.configuration}: {booking.ops_per_second / trivial.ops_per_second:.3f} in "
                f"operations ({booking.ops_per_second * 2 / trivial.ops_per_second:.3f} in requests): one booking + "
                f"attendance costs as much server time as {trivial.ops_per_second / booking.ops_per_second:.1f} "
                f"trivial GETs (target ≥ 0.3, goal 0.5 in operations); by round: "
                + ", ".join("-" if r is None else f"{r:.3f}" for r in by_round)
                + (f"; median {statistics.median(ratios):.3f}, {ratios[0]:.3f}-{ratios[-1]:.3f}" if ratios else "")
            )
            if booking.cpu_ms_per_op() and trivial.cpu_ms_per_op():
                print(
                    f"ratio A/B, {booking.configuration}, in server CPU per operation: "
                    f"{trivial.cpu_ms_per_op() / booking.cpu_ms_per_op():.3f} (what the machine's load "
                    "and the host's drift change least: CPU time the server's processes used, not wall time)"
                )
        for result in results:
            for error in result.errors[:5]:
                print(f"  {result.configuration}, {result.scenario}: {error}")
        problems = verify(fixture)
        for problem in problems[:20]:
            print(f"  {problem}")
    if problems or any(r.failed or r.done == 0 for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
