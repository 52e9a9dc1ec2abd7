"""Debits per second through the service, next to a raw SQL loop doing the same
writes, on PostgreSQL.

    scripts/with-test-services .venv/bin/python bench/ledger_debits.py [--debits N]

One debit is one booked appointment set to "attended":

- service: `scheduling.services.appointment_set_status(status="attended")`, an
  entry point (durable atomic with retry) that locks through `scheduling.locks`
  (the appointment, its package, the session's unit), saves the status, and lets
  `scheduling.package_sessions` → `patient_packages.consumption.debit` →
  `ledger.append` update the unit, the package's cached balances and insert the
  ledger entry;
- raw SQL (the anchor): the same rows written on the same database with
  `connection.cursor()` (psycopg, parameterised SQL), one transaction per
  debit: `BEGIN`; lock the appointment, the package and the unit (each
  `SELECT ... FOR NO KEY UPDATE`); update the appointment's status, the unit's
  state and amount, the package's balances and `last_seq`; insert the ledger
  entry; copy the appointment into its django-simple-history table (the audit
  row the service writes too); `COMMIT`. The session's value and the package's
  status follow the same rules (`clinic.money`), so its packages reconcile too.

Both paths debit appointments prepared the same way beforehand, untimed: one
package per share, and one `appointment_book` with the package per debit (the
session is reserved). The sessions have started (they are booked from two
years ago on), as when staff mark a patient attended: a session still ahead
would also have its reminders cancelled, a write the raw loop does not do.
Three scenarios, each in four rounds (`--rounds`) that alternate the service
and raw SQL (each first in turn, so that the host's speed drifting meanwhile
falls on both), each round on fresh packages:

- sequential: one thread debits one package;
- 8 threads, 1 package: they queue on the package's row lock;
- 8 threads, 8 packages: one package each, so only the database and the
  Python interpreter are shared.

Without --debits each path's count a round comes from a warm-up: about a
second's worth at its sequential rate (at most MAX_DEBITS a package, the most
sessions a package holds). The ratio is over the rounds' debits and time,
printed with each round's, their median and spread. At the end
every package of both paths must reconcile with its ledger and usages
(`ledger.package_reconcile`), every unit with its appointment
(`scheduling.package_sessions.sessions_reconcile`), and hold exactly the
debits made on it.

The threads share one Python process and so its interpreter lock: "8 threads,
8 packages" is a floor for what eight worker processes would reach, and
weighs against the service path, which has more Python to run per debit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import _fixtures  # first: sets Django up (through _harness)
import _harness
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from clinic import money
from clinic.tenancy import organization_scope
from packages.catalog.models import MAX_SESSIONS
from packages.patient_packages import ledger
from packages.patient_packages.models import LedgerEntry, PatientPackage
from scheduling.models import Appointment
from scheduling.package_sessions import sessions_reconcile

THREADS = 8
ROUNDS = 4
ROUND_SECONDS = 1.0  # at the sequential rate of the warm-up
WARM_UP_DEBITS = 60
# Per scenario and package: each debit needs an appointment booked through
# the service first, and a package holds at most MAX_SESSIONS.
MAX_DEBITS = MAX_SESSIONS

# Where the sessions debited start: far enough back that a run's bookings
# (one 30-minute slot each) have all started.
SESSIONS_FROM = (dt.datetime.now(dt.UTC) - dt.timedelta(days=730)).replace(hour=0, minute=0, second=0, microsecond=0)

# The raw anchor. Table and column names are the models' (checked by the reconciliation).
LOCK_APPOINTMENT = (
    'SELECT "start", "status", "patient_package_id" FROM "scheduling_appointment" WHERE "id" = %s FOR NO KEY UPDATE'
)
LOCK_PACKAGE = (
    'SELECT "organization_id", "status", "sessions_total", "sessions_booked", "sessions_used", "amount_total", '
    '"amount_open", "last_seq" FROM "patient_packages_patientpackage" WHERE "id" = %s FOR NO KEY UPDATE'
)
LOCK_UNIT = (
    'SELECT "id", "package_id", "state" FROM "patient_packages_packageusage" '
    "WHERE \"session\" = %s AND \"state\" IN ('reserved', 'debited') FOR NO KEY UPDATE"
)
SET_STATUS = 'UPDATE "scheduling_appointment" SET "status" = %s, "holds_slot" = true WHERE "id" = %s'
DEBIT_UNIT = (
    'UPDATE "patient_packages_packageusage" SET "state" = \'debited\', "amount" = %s, "updated_at" = now() '
    'WHERE "id" = %s'
)
UPDATE_BALANCES = (
    'UPDATE "patient_packages_patientpackage" SET "sessions_booked" = "sessions_booked" - 1, '
    '"sessions_used" = "sessions_used" + 1, "amount_open" = "amount_open" - %s, "status" = %s, "last_seq" = %s '
    'WHERE "id" = %s'
)
# The audit row django-simple-history writes for the status change, as one
# statement: the appointment's columns (from the model, so a new one is copied too).
_HISTORY_COLUMNS = ", ".join(f'"{field.column}"' for field in Appointment._meta.concrete_fields)
INSERT_HISTORY = (
    f'INSERT INTO "scheduling_historicalappointment" ({_HISTORY_COLUMNS}, "history_date", "history_change_reason", '  # noqa: S608
    f'"history_type", "history_user_id") SELECT {_HISTORY_COLUMNS}, now(), NULL, \'~\', %s '
    'FROM "scheduling_appointment" WHERE "id" = %s'
)
INSERT_ENTRY = (
    'INSERT INTO "patient_packages_ledgerentry" ("organization_id", "package_id", "seq", "kind", "session", '
    '"actor_id", "created_at", "status", "d_sessions_total", "d_sessions_booked", "d_sessions_used", '
    '"d_amount_total", "d_amount_open", "sessions_total", "sessions_booked", "sessions_used", "amount_total", '
    '"amount_open", "average_price", "period", "details", "note") '
    "VALUES (%s, %s, %s, 'debit', %s, %s, now(), %s, 0, -1, 1, 0, %s, %s, %s, %s, %s, %s, %s, NULL, %s, '')"
)


@dataclass
class Fixture:
    tenant: _fixtures.Tenant
    # package pk -> debits attempted on it, checked against the ledgers at the end
    expected: Counter[int] = field(default_factory=Counter)
    # package pks per path, reconciled at the end
    packages: dict[str, list[int]] = field(default_factory=lambda: {"service": [], "raw SQL": []})
    failed: int = 0


@dataclass
class Result:
    scenario: str
    path: str
    threads: int
    packages: int
    debits: int
    seconds: float
    errors: list[str]

    @property
    def rate(self) -> float:
        return self.debits / self.seconds if self.seconds else 0.0


Share = tuple[PatientPackage, list[Appointment]]


def prepare(fixture: Fixture, path: str, *, packages: int, debits: int) -> list[Share]:
    """`packages` packages sharing `debits` sessions, each on its own patient,
    and one appointment booked (`appointment_book`) per debit."""
    tenant = fixture.tenant
    per_package = math.ceil(debits / packages)
    prepared = []
    with organization_scope(tenant.organization):
        for _ in range(packages):
            patient, package = _fixtures.patient_with_package(tenant, sessions=per_package)
            appointments = [_fixtures.book(tenant, patient, package) for _ in range(per_package)]
            prepared.append((package, appointments))
            fixture.packages[path].append(package.pk)
    return prepared


# The two ways of debiting


def debit_service(fixture: Fixture, appointment: Appointment) -> None:
    _fixtures.attend(fixture.tenant, appointment)


def debit_raw(fixture: Fixture, appointment: Appointment) -> None:
    """The same rows as the service, in SQL: one transaction, three row locks,
    three updates and two inserts (the audit row and the ledger entry)."""
    actor = fixture.tenant.owner.pk
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(LOCK_APPOINTMENT, [appointment.pk])
            start, _status, package_id = cursor.fetchone()
            cursor.execute(LOCK_PACKAGE, [package_id])
            organization, status, total, booked, used, amount_total, amount_open, last_seq = cursor.fetchone()
            cursor.execute(LOCK_UNIT, [appointment.pk])
            unit, unit_package, state = cursor.fetchone()
            if unit_package != package_id or state != "reserved" or status != "active":
                raise RuntimeError(f"appointment {appointment.pk}: unit {state} in package {unit_package} ({status})")
            value = money.next_session_value(amount_open, total - used)
            booked, used, amount_open, seq = booked - 1, used + 1, amount_open - value, last_seq + 1
            status = "finished" if total - used == 0 else status  # ledger._automatic_status
            cursor.execute(SET_STATUS, ["attended", appointment.pk])
            cursor.execute(INSERT_HISTORY, [actor, appointment.pk])
            cursor.execute(DEBIT_UNIT, [value, unit])
            cursor.execute(UPDATE_BALANCES, [value, status, seq, package_id])
            details = {"session": start.astimezone(dt.UTC).isoformat(), "value": str(value)}
            cursor.execute(
                INSERT_ENTRY,
                [organization, package_id, seq, appointment.pk, actor, status, -value, total, booked, used,
                 amount_total, amount_open, money.average(amount_total, total), json.dumps(details)],
            )  # fmt: skip
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")


PATHS: dict[str, Callable[[Fixture, Appointment], None]] = {"service": debit_service, "raw SQL": debit_raw}


def debit_all(fixture: Fixture, path: str, appointments: list[Appointment], errors: list[str]) -> None:
    debit = PATHS[path]
    with organization_scope(fixture.tenant.organization):
        for appointment in appointments:
            try:
                debit(fixture, appointment)
            except Exception as error:  # counted and printed: a benchmark reports, it does not stop
                errors.append(f"{type(error).__name__}: {error}")


# The scenarios


def sequential(fixture: Fixture, path: str, debits: int) -> Result:
    [(package, appointments)] = prepare(fixture, path, packages=1, debits=debits)
    errors: list[str] = []
    began = time.perf_counter()
    debit_all(fixture, path, appointments, errors)
    seconds = time.perf_counter() - began
    fixture.expected[package.pk] += len(appointments)
    fixture.failed += len(errors)
    return Result("sequential, 1 package", path, 1, 1, len(appointments), seconds, errors)


def threaded(fixture: Fixture, path: str, debits: int, *, packages: int) -> Result:
    prepared = prepare(fixture, path, packages=packages, debits=debits)
    # One share per thread: either all threads on the one package (its
    # appointments dealt round-robin), or one package per thread.
    if packages == 1:
        [(package, appointments)] = prepared
        shares = [appointments[i::THREADS] for i in range(THREADS)]
    else:
        shares = [appointments for _package, appointments in prepared]
    errors: list[str] = []
    barrier = threading.Barrier(len(shares) + 1)

    def work(appointments: list[Appointment]) -> None:
        try:
            connection.ensure_connection()  # connecting is not what is measured
            barrier.wait()
            debit_all(fixture, path, appointments, errors)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    for package, appointments in prepared:
        fixture.expected[package.pk] += len(appointments)
    fixture.failed += len(errors)
    label = f"{THREADS} threads, {packages} package{'s' if packages > 1 else ''}"
    return Result(label, path, len(shares), packages, sum(map(len, shares)), seconds, errors)


def statements_per_debit(fixture: Fixture, path: str) -> int:
    """SQL statements of one debit (BEGIN and COMMIT included), after a first one."""
    [(package, appointments)] = prepare(fixture, path, packages=1, debits=2)
    errors: list[str] = []
    debit_all(fixture, path, appointments[:1], errors)
    with CaptureQueriesContext(connection) as captured:
        debit_all(fixture, path, appointments[1:], errors)
    fixture.expected[package.pk] += 2
    fixture.failed += len(errors)
    return len(captured.captured_queries)


def _merged(rounds: list[Result]) -> Result:
    """The rounds of one scenario and path as one: their debits over their time."""
    first = rounds[0]
    return Result(
        first.scenario, first.path, first.threads, first.packages, sum(r.debits for r in rounds),
        sum(r.seconds for r in rounds), [e for r in rounds for e in r.errors],
    )  # fmt: skip


# The checks


def verify(fixture: Fixture) -> list[str]:
    """Every package reconciles with its ledger and usages, every unit with its
    appointment, and the ledgers hold exactly the debits attempted less those
    that failed."""
    problems = []
    with organization_scope(fixture.tenant.organization):
        packages = list(PatientPackage.objects.filter(pk__in=fixture.expected))
        debits = Counter(
            LedgerEntry.objects.filter(package__in=packages, kind="debit").values_list("package_id", flat=True)
        )
        for package in packages:
            drift = ledger.package_reconcile(package)
            if drift.differences:
                problems.append(f"{package.number}: {drift.differences}")
            sessions = sessions_reconcile(package)
            if sessions.differences:
                problems.append(f"{package.number} sessions: {dict(list(sessions.differences.items())[:3])}")
            if package.sessions_used != debits[package.pk]:
                problems.append(f"{package.number}: {package.sessions_used} used, {debits[package.pk]} debit entries")
        made = sum(debits.values())
        expected = sum(fixture.expected.values()) - fixture.failed
        if made != expected:
            problems.append(f"{made} debits in the ledgers, {expected} expected")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debits", type=int, help="debits per round and path (default: about a second of each)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds per scenario and path (default {ROUNDS})")
    parser.add_argument("--sequential-only", action="store_true", help="skip the two 8-thread scenarios")
    args = parser.parse_args()

    with _harness.throwaway_database():
        print(_harness.environment())
        fixture = Fixture(_fixtures.tenant_create(first_slot=SESSIONS_FROM))
        counts = {}
        for path in PATHS:
            sequential(fixture, path, 10)  # untimed: the first calls fill the ORM's and the URLconf's caches
            warm_up = sequential(fixture, path, WARM_UP_DEBITS)
            counts[path] = args.debits or max(
                WARM_UP_DEBITS, math.ceil(warm_up.rate * ROUND_SECONDS / THREADS) * THREADS
            )  # fmt: skip
            print(f"warm-up, {path}: {warm_up.debits} debits at {warm_up.rate:.0f}/s; {counts[path]} debits a round")
        print(
            "SQL statements per debit (BEGIN and COMMIT included): "
            + ", ".join(f"{path} {statements_per_debit(fixture, path)}" for path in PATHS)
            + "\n"
        )

        scenarios: list[tuple[str, Callable[..., Result], dict[str, int]]] = [("sequential, 1 package", sequential, {})]
        if not args.sequential_only:
            scenarios += [
                (f"{THREADS} threads, 1 package", threaded, {"packages": 1}),
                (f"{THREADS} threads, {THREADS} packages", threaded, {"packages": THREADS}),
            ]
        results: list[tuple[str, Result, Result, list[float]]] = []
        for label, scenario, options in scenarios:
            # The paths alternate, round by round and each first in turn, so
            # that the host's speed drifting meanwhile falls on both.
            rounds: dict[str, list[Result]] = {path: [] for path in PATHS}
            order = list(PATHS)
            most = MAX_DEBITS * options.get("packages", 1)
            for number in range(args.rounds):
                for path in order if number % 2 == 0 else order[::-1]:
                    rounds[path].append(scenario(fixture, path, min(counts[path], most), **options))
            service, raw = (_merged(rounds[path]) for path in PATHS)
            by_round = [s.rate / r.rate if r.rate else 0.0 for s, r in zip(*rounds.values(), strict=True)]
            results.append((label, service, raw, by_round))

        _harness.print_table(
            ["scenario", "service debits", "s", "service/s", "raw debits", "s", "raw/s", "ratio", "errors"],
            [
                (label, s.debits, f"{s.seconds:.2f}", f"{s.rate:.0f}", r.debits, f"{r.seconds:.2f}", f"{r.rate:.0f}",
                 f"{s.rate / r.rate:.3f}" if r.rate else "-", len(s.errors) + len(r.errors))
                for label, s, r, _by_round in results
            ],
        )  # fmt: skip
        print(f"ratio: service debits/s ÷ raw SQL debits/s over {args.rounds} alternating rounds (target ≥ 0.3)")
        for label, _s, _r, by_round in results:
            print(
                f"  {label}, by round: {', '.join(f'{ratio:.3f}' for ratio in by_round)}; "
                f"median {statistics.median(by_round):.3f}, {min(by_round):.3f}-{max(by_round):.3f}"
            )
        for message, count in Counter(e for _l, s, r, _b in results for x in (s, r) for e in x.errors).most_common(5):
            print(f"  error x{count}: {message}")
        if fixture.tenant.next_slot > dt.datetime.now(dt.UTC):
            print(f"warning: sessions booked up to {fixture.tenant.next_slot:%Y-%m-%d}: some had not started")
        problems = verify(fixture)
        print()
        if problems:
            print(f"reconcile: {len(problems)} problem(s)")
            for problem in problems[:20]:
                print(f"  {problem}")
        else:
            print(
                f"reconcile: {len(fixture.expected)} packages ({len(fixture.packages['service'])} through the "
                f"service, {len(fixture.packages['raw SQL'])} through raw SQL), {sum(fixture.expected.values())} "
                "debits; every cached balance equals its ledger and its usages, every unit its appointment's status"
            )
    if fixture.failed or problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
