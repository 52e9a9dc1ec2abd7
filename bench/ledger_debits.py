"""Debits per second through `packages.patient_packages.ledger.package_debit` on PostgreSQL.

    scripts/with-test-services .venv/bin/python bench/ledger_debits.py [--debits N]

Three scenarios, each on fresh packages with enough sessions:

- sequential: one thread debits one package;
- 8 threads, 1 package: they queue on the package's row lock, so this shows
  what the lock costs when a package is hot;
- 8 threads, 8 packages: one package each, so only the database and the
  Python interpreter are shared.

Appointments are created beforehand (one per debit, in bulk), so only the
debits are timed. Without --debits the count comes from a warm-up: about three
seconds' worth at the sequential rate, and a scenario that finishes in under
two seconds is run again with more. At the end every package must reconcile
with its ledger and hold exactly the debits made on it.

The threads share one Python process and so its interpreter lock: the ORM's
Python work does not run in parallel, and "8 threads, 8 packages" is a floor
for what eight worker processes would reach.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import _harness  # first: sets Django up
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic import resources, services
from clinic.models import Clinic, Organization, User
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import LedgerEntry, PatientPackage
from patients import services as patient_services
from patients.models import Patient
from scheduling.models import Appointment

THREADS = 8
MIN_SECONDS = 2.0
TARGET_SECONDS = 3.0
WARM_UP_DEBITS = 300


@dataclass
class Fixture:
    organization: Organization
    clinic: Clinic
    actor: User
    patient: Patient
    # package pk -> debits attempted on it, checked against the ledgers at the end
    expected: Counter[int] = field(default_factory=Counter)


@dataclass
class Result:
    scenario: str
    threads: int
    packages: int
    debits: int
    seconds: float
    errors: list[str]


def make_fixture() -> Fixture:
    organization, clinic, owner = services.organization_create(
        name="Benchmark clinic",
        owner_username="bench-owner",
        owner_password=secrets.token_urlsafe(16),
        clinic_name="Benchmark central",
    )
    with organization_scope(organization):
        professional = resources.professional_create(clinic=clinic, name="Marcos Pereira")
        patient = patient_services.patient_create(
            clinic=clinic, fields={"full_name": "Paciente de Benchmark"}, professionals=[professional]
        )
    return Fixture(organization, clinic, owner, patient)


def prepare(fixture: Fixture, *, packages: int, debits: int) -> list[tuple[PatientPackage, list[Appointment]]]:
    """`packages` packages sharing `debits` sessions, and one appointment per debit."""
    per_package = math.ceil(debits / packages)
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=365)
    prepared = []
    with organization_scope(fixture.organization):
        for _ in range(packages):
            package = ledger.package_link(
                patient=fixture.patient,
                clinic=fixture.clinic,
                actor=fixture.actor,
                sessions=per_package,
                total_price=Decimal(per_package * 100),
            )
            appointments = Appointment.objects.bulk_create(
                [
                    Appointment(
                        organization=fixture.organization,
                        clinic=fixture.clinic,
                        patient=fixture.patient,
                        start=start + dt.timedelta(minutes=i),
                        end=start + dt.timedelta(minutes=i + 50),
                        status="attended",
                        patient_package=package,
                    )
                    for i in range(per_package)
                ],
                batch_size=2000,
            )
            prepared.append((package, appointments))
    return prepared


def debit_all(fixture: Fixture, package: PatientPackage, appointments: list[Appointment], errors: list[str]) -> None:
    with organization_scope(fixture.organization):
        for appointment in appointments:
            try:
                ledger.package_debit(package=package, appointment=appointment, actor=fixture.actor)
            except Exception as error:  # counted and printed: a benchmark reports, it does not stop
                errors.append(f"{type(error).__name__}: {error}")


def sequential(fixture: Fixture, debits: int) -> Result:
    [(package, appointments)] = prepare(fixture, packages=1, debits=debits)
    errors: list[str] = []
    began = time.perf_counter()
    debit_all(fixture, package, appointments, errors)
    seconds = time.perf_counter() - began
    fixture.expected[package.pk] += len(appointments)
    return Result("sequential, 1 package", 1, 1, len(appointments), seconds, errors)


def threaded(fixture: Fixture, debits: int, *, packages: int) -> Result:
    prepared = prepare(fixture, packages=packages, debits=debits)
    # One (package, appointments) share per thread: either all threads on the
    # one package, or one package per thread.
    if packages == 1:
        [(package, appointments)] = prepared
        shares = [(package, appointments[i::THREADS]) for i in range(THREADS)]
    else:
        shares = prepared
    errors: list[str] = []
    barrier = threading.Barrier(len(shares) + 1)

    def work(package: PatientPackage, appointments: list[Appointment]) -> None:
        try:
            connection.ensure_connection()  # connecting is not what is measured
            barrier.wait()
            debit_all(fixture, package, appointments, errors)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=share) for share in shares]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    total = sum(len(appointments) for _, appointments in shares)
    for package, appointments in prepared:
        fixture.expected[package.pk] += len(appointments)
    label = f"{THREADS} threads, {packages} package{'s' if packages > 1 else ''}"
    return Result(label, len(shares), packages, total, seconds, errors)


def queries_per_debit(fixture: Fixture) -> int:
    """SQL statements of one debit (transaction included), after a first one."""
    [(package, appointments)] = prepare(fixture, packages=1, debits=2)
    fixture.expected[package.pk] += 2
    with organization_scope(fixture.organization):
        ledger.package_debit(package=package, appointment=appointments[0], actor=fixture.actor)
        with CaptureQueriesContext(connection) as captured:
            ledger.package_debit(package=package, appointment=appointments[1], actor=fixture.actor)
    return len(captured.captured_queries)


def until_long_enough(run: Callable[[int], Result], debits: int) -> Result:
    """Run again with more debits until the scenario takes at least MIN_SECONDS."""
    result = run(debits)
    while result.seconds < MIN_SECONDS:
        debits = math.ceil(debits * TARGET_SECONDS / result.seconds / THREADS) * THREADS
        result = run(debits)
    return result


def verify(fixture: Fixture, failed: int) -> list[str]:
    """Every package reconciles with its ledger, and the ledgers hold exactly
    the debits attempted less those that failed."""
    problems = []
    with organization_scope(fixture.organization):
        packages = list(PatientPackage.objects.filter(pk__in=fixture.expected))
        debits = Counter(
            LedgerEntry.objects.filter(package__in=packages, kind="debit").values_list("package_id", flat=True)
        )
        for package in packages:
            drift = ledger.package_reconcile(package)
            if drift.differences:
                problems.append(f"{package.number}: {drift.differences}")
            if package.sessions_used != debits[package.pk]:
                problems.append(f"{package.number}: {package.sessions_used} used, {debits[package.pk]} debit entries")
        made = sum(debits.values())
        expected = sum(fixture.expected.values()) - failed
        if made != expected:
            problems.append(f"{made} debits in the ledgers, {expected} expected")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debits", type=int, help="debits per scenario (default: about 3 s at the sequential rate)")
    args = parser.parse_args()

    with _harness.throwaway_database():
        print(_harness.environment())
        fixture = make_fixture()
        warm_up = sequential(fixture, WARM_UP_DEBITS)
        rate = warm_up.debits / warm_up.seconds
        debits = args.debits or max(1000, math.ceil(rate * TARGET_SECONDS / THREADS) * THREADS)
        print(f"warm-up: {warm_up.debits} debits at {rate:.0f}/s; {debits} debits per scenario")
        print(f"SQL statements per debit: {queries_per_debit(fixture)} (BEGIN and COMMIT included)\n")

        if args.debits:
            results = [
                sequential(fixture, debits),
                threaded(fixture, debits, packages=1),
                threaded(fixture, debits, packages=THREADS),
            ]
        else:
            results = [
                until_long_enough(lambda n: sequential(fixture, n), debits),
                until_long_enough(lambda n: threaded(fixture, n, packages=1), debits),
                until_long_enough(lambda n: threaded(fixture, n, packages=THREADS), debits),
            ]
        _harness.print_table(
            ["scenario", "threads", "packages", "debits", "seconds", "debits/s", "errors"],
            [
                (r.scenario, r.threads, r.packages, r.debits, f"{r.seconds:.2f}", f"{r.debits / r.seconds:.0f}",
                 len(r.errors))
                for r in results
            ],
        )  # fmt: skip
        failed = sum(len(r.errors) for r in [warm_up, *results])
        for message, count in Counter(e for r in results for e in r.errors).most_common(5):
            print(f"  error x{count}: {message}")
        problems = verify(fixture, failed)
        print()
        if problems:
            print(f"reconcile: {len(problems)} problem(s)")
            for problem in problems[:20]:
                print(f"  {problem}")
        else:
            print(
                f"reconcile: {len(fixture.expected)} packages, {sum(fixture.expected.values())} debits; "
                "every cached balance equals its ledger and its usages"
            )
    if failed or problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
