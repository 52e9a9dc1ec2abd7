"""SQL queries and server time of the patient-package pages with a large tenant.

    scripts/with-test-services .venv/bin/python bench/package_pages.py

Builds one organization with 10,000 patient packages (4 per patient) and
200,000 ledger entries, one package holding 251 of them, then requests as its
owner, through `django.test.Client`. Every package has budget limits (S3) and
every appointment a service line, so the lists also read how much of each
page's budgets the appointments use:

- the API list `GET /api/v1/patient-packages/?page_size=50`;
- the API history `GET /api/v1/patient-packages/<id>/history/` of the big package;
- the HTML pages `/patients/<id>/packages/` and
  `/patients/<id>/packages/<package_id>/history/`, when they exist.

For each: status, rows returned, SQL queries of one request
(`CaptureQueriesContext`) and the median, minimum and maximum of 20 timed
requests after 3 warm-ups, without query capture. The time is the whole
request in this process (middleware, views, templates), without a network.
An endpoint that is not routed yet, or answers 404, prints "not available";
one that fails prints its error instead of figures.

The fixture bypasses `packages.patient_packages.ledger` on purpose: 200,000 entries through the
ledger functions would take many minutes, so packages, appointments, usages
and entries are written with `bulk_create` (which also skips
django-simple-history). The rows follow the ledger's rules: each entry's
deltas and resulting balances, session values from `clinic.money`, one usage
per booked or debited appointment, so the cached balances equal the ledger's
sums; a sample is reconciled with `ledger.package_reconcile` at the end.
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import _harness  # first: sets Django up
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from django.utils import timezone

from clinic import money, resources, services
from clinic.models import Clinic, Organization, User
from clinic.normalize import search_key
from clinic.tenancy import organization_scope
from packages.catalog.models import Service
from packages.patient_packages import ledger
from packages.patient_packages.models import (
    EntryKind,
    LedgerEntry,
    PackageStatus,
    PackageUsage,
    PatientPackage,
    UsageState,
)
from patients.models import Patient
from scheduling.models import Appointment, AppointmentLine

PACKAGES = 10_000
ENTRIES = 200_000
PACKAGES_PER_PATIENT = 4
BIG_PACKAGE_DEBITS = 250  # the package whose history is measured: 251 entries
PRICE = Decimal("100.00")  # per session
ZERO = Decimal("0.00")
CHUNK = 500  # packages written per round of bulk_create
WARM_UPS = 3
TIMED = 20


@dataclass
class Tenant:
    organization: Organization
    clinic: Clinic
    owner: User
    big_package: PatientPackage


@dataclass
class Plan:
    """One package of the fixture: its sessions and what happened to them."""

    sessions: int
    debits: int
    reserves: int


def plans() -> list[Plan]:
    """10,000 packages whose entries add up to exactly 200,000: the big one,
    then 18 or 19 consumption entries per package after its "created" entry;
    every tenth package is used up (finished), every third has two sessions
    still booked."""
    big = Plan(sessions=300, debits=BIG_PACKAGE_DEBITS, reserves=0)
    consumption = ENTRIES - PACKAGES - big.debits
    base, extra = divmod(consumption, PACKAGES - 1)
    result = [big]
    for k in range(1, PACKAGES):
        count = base + (1 if k <= extra else 0)
        if k % 10 == 0:
            result.append(Plan(sessions=count, debits=count, reserves=0))
        elif k % 3 == 0:
            result.append(Plan(sessions=count + 6, debits=count - 2, reserves=2))
        else:
            result.append(Plan(sessions=count + 6, debits=count, reserves=0))
    assert sum(1 + p.debits + p.reserves for p in result) == ENTRIES
    return result


def build() -> Tenant:
    organization, clinic, owner = services.organization_create(
        name="Benchmark clinic",
        owner_username="bench-owner",
        owner_password=secrets.token_urlsafe(16),
        clinic_name="Benchmark central",
    )
    with organization_scope(organization):
        resources.professional_create(clinic=clinic, name="Marcos Pereira")
        service = Service.objects.create(
            organization=organization, clinic=clinic, name="Sessão de fisioterapia", code="FIS", price=PRICE
        )
        names = [f"Paciente {n:05d} de Benchmark" for n in range(PACKAGES // PACKAGES_PER_PATIENT)]
        patients = Patient.objects.bulk_create(
            [
                Patient(organization=organization, clinic=clinic, full_name=name, name_search=search_key(name))
                for name in names
            ],
            batch_size=2000,
        )
        all_plans = plans()
        year = timezone.localdate().year
        now = timezone.now().replace(second=0, microsecond=0)
        for first in range(0, PACKAGES, CHUNK):
            _build_chunk(organization, clinic, owner, service, patients, all_plans, first, year, now)
        big_package = PatientPackage.objects.get(number=f"{year}-00001")
    return Tenant(organization, clinic, owner, big_package)


def _build_chunk(
    organization: Organization,
    clinic: Clinic,
    owner: User,
    service: Service,
    patients: list[Patient],
    all_plans: list[Plan],
    first: int,
    year: int,
    now: dt.datetime,
) -> None:
    chunk = range(first, min(first + CHUNK, PACKAGES))
    packages = []
    for k in chunk:
        plan = all_plans[k]
        amount_total = PRICE * plan.sessions
        amount_open, remaining = amount_total, plan.sessions
        for _ in range(plan.debits):
            amount_open -= money.next_session_value(amount_open, remaining)
            remaining -= 1
        packages.append(
            PatientPackage(
                organization=organization,
                number=f"{year}-{k + 1:05d}",
                clinic=clinic,
                patient=patients[k % len(patients)],
                name=f"Pacote {plan.sessions} sessões",
                terms={
                    "cycle_sessions": plan.sessions,
                    "cycle_price": str(amount_total),
                    "limits": {"max_appointments": plan.sessions, "max_amount": str(amount_total), "services": []},
                },
                status=PackageStatus.FINISHED if remaining == 0 else PackageStatus.ACTIVE,
                sessions_total=plan.sessions,
                sessions_booked=plan.reserves,
                sessions_used=plan.debits,
                last_seq=1 + plan.debits + plan.reserves,  # its entries: created, then one per session
                amount_total=amount_total,
                amount_open=amount_open,
                created_by=owner,
            )
        )
    packages = PatientPackage.objects.bulk_create(packages)

    appointments = []
    for package, k in zip(packages, chunk, strict=True):
        plan = all_plans[k]
        days = [-(plan.debits - i) for i in range(plan.debits)] + [i + 1 for i in range(plan.reserves)]
        for day in days:
            start = now + dt.timedelta(days=day)
            appointments.append(
                Appointment(
                    organization=organization,
                    clinic=clinic,
                    patient=package.patient,
                    start=start,
                    end=start + dt.timedelta(minutes=50),
                    status="attended" if day < 0 else "scheduled",
                    patient_package=package,
                )
            )
    appointments = Appointment.objects.bulk_create(appointments, batch_size=5000)
    AppointmentLine.objects.bulk_create(
        [
            AppointmentLine(organization=organization, appointment=appointment, service=service, price=PRICE)
            for appointment in appointments
        ],
        batch_size=5000,
    )

    usages: list[PackageUsage] = []
    entries: list[LedgerEntry] = []
    # What each session takes of its package's budget: its one service line.
    consumption = [{"service": service.pk, "quantity": 1, "unit_price": str(PRICE)}]
    queue = iter(appointments)
    for package, k in zip(packages, chunk, strict=True):
        plan = all_plans[k]
        book = Book(package, owner)
        # "created" carries the whole initial balance, as package_link writes it.
        entries.append(
            book.entry(EntryKind.CREATED, None, total=plan.sessions, amount=package.amount_total, template=None)
        )
        for n in range(plan.debits + plan.reserves):
            appointment = next(queue)
            session = appointment.start.astimezone(dt.UTC).isoformat()
            if n < plan.debits:
                value = money.next_session_value(book.amount_open, book.sessions_total - book.sessions_used)
                usage = PackageUsage(
                    organization=organization,
                    package=package,
                    session=appointment.pk,
                    session_start=appointment.start,
                    consumption=consumption,
                    state=UsageState.DEBITED,
                    amount=value,
                )
                entry = book.entry(
                    EntryKind.DEBIT, appointment, used=1, opened=-value, session=session, value=str(value)
                )
            else:
                usage = PackageUsage(
                    organization=organization,
                    package=package,
                    session=appointment.pk,
                    session_start=appointment.start,
                    consumption=consumption,
                    state=UsageState.RESERVED,
                )
                entry = book.entry(EntryKind.RESERVE, appointment, booked=1, session=session)
            usages.append(usage)
            entries.append(entry)
        assert (book.sessions_used, book.sessions_booked, book.amount_open, book.status) == (
            package.sessions_used,
            package.sessions_booked,
            package.amount_open,
            package.status,
        )
    PackageUsage.objects.bulk_create(usages, batch_size=5000)
    LedgerEntry.objects.bulk_create(entries, batch_size=5000)


class Book:
    """One package's balances as its entries are written, entry by entry, the
    way `ledger._append` keeps them: deltas, then the balances after them."""

    def __init__(self, package: PatientPackage, actor: User) -> None:
        self.package, self.actor, self.seq = package, actor, 0
        self.sessions_total = self.sessions_booked = self.sessions_used = 0
        self.amount_total = self.amount_open = ZERO
        self.status = PackageStatus.ACTIVE

    def entry(
        self,
        kind: str,
        appointment: Appointment | None,
        *,
        total: int = 0,
        booked: int = 0,
        used: int = 0,
        amount: Decimal = ZERO,
        opened: Decimal | None = None,
        **details: Any,
    ) -> LedgerEntry:
        """`amount` changes the total and the open value alike (as a link
        does); `opened` changes only the open value (as a debit does)."""
        opened = amount if opened is None else opened
        self.seq += 1
        self.sessions_total += total
        self.sessions_booked += booked
        self.sessions_used += used
        self.amount_total += amount
        self.amount_open += opened
        if self.sessions_total == self.sessions_used:
            self.status = PackageStatus.FINISHED
        return LedgerEntry(
            organization_id=self.package.organization_id,
            package=self.package,
            seq=self.seq,
            kind=kind,
            session=appointment.pk if appointment else None,
            actor=self.actor,
            status=self.status,
            d_sessions_total=total,
            d_sessions_booked=booked,
            d_sessions_used=used,
            d_amount_total=amount,
            d_amount_open=opened,
            sessions_total=self.sessions_total,
            sessions_booked=self.sessions_booked,
            sessions_used=self.sessions_used,
            amount_total=self.amount_total,
            amount_open=self.amount_open,
            average_price=money.average(self.amount_total, self.sessions_total),
            details=details,
        )


@dataclass
class Measure:
    name: str
    status: str
    rows: str = ""
    queries: int | None = None
    times_ms: list[float] | None = None


def measure(client: Client, name: str, path: str) -> Measure:
    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return Measure(name, "not available")
    response = client.get(path)
    if response.status_code == 404:
        return Measure(name, "not available")
    if response.status_code >= 500:
        error = getattr(response, "exc_info", None)
        return Measure(name, f"error {response.status_code}" + (f": {error[0].__name__}" if error else ""))
    for _ in range(WARM_UPS - 1):
        client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    # Now: `captured_queries` reads the connection's log, which later requests reset.
    queries = len(captured.captured_queries)
    rows = ""
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        rows = f"{len(body.get('results', []))} of {body.get('count')}" if isinstance(body, dict) else ""
    times = []
    for _ in range(TIMED):
        began = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - began) * 1000)
    return Measure(name, str(response.status_code), rows, queries, times)


def main() -> None:
    with _harness.throwaway_database():
        print(_harness.environment())
        began = time.perf_counter()
        tenant = build()
        built = time.perf_counter() - began
        with organization_scope(tenant.organization):
            counts = (
                Patient.objects.count(),
                PatientPackage.objects.count(),
                LedgerEntry.objects.count(),
                PackageUsage.objects.count(),
                Appointment.objects.count(),
                AppointmentLine.objects.count(),
            )
            big_entries = LedgerEntry.objects.filter(package=tenant.big_package).count()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have them in production
        print(
            f"fixture: {counts[0]} patients, {counts[1]} packages, {counts[2]} ledger entries, "
            f"{counts[3]} usages, {counts[4]} appointments ({counts[5]} service lines) in {built:.1f} s; "
            f"big package {tenant.big_package.number}: {big_entries} entries\n"
        )

        # A page that fails answers 500 here instead of stopping the benchmark.
        client = Client(raise_request_exception=False)
        client.force_login(tenant.owner)
        package, patient_id = tenant.big_package, tenant.big_package.patient_id
        results = [
            measure(client, "API list ?page_size=50", "/api/v1/patient-packages/?page_size=50"),
            measure(client, "API history (big package)", f"/api/v1/patient-packages/{package.pk}/history/"),
            measure(client, "HTML patient packages", f"/patients/{patient_id}/packages/"),
            measure(client, "HTML package history", f"/patients/{patient_id}/packages/{package.pk}/history/"),
        ]
        _harness.print_table(
            ["endpoint", "status", "rows", "queries", "median ms", "min ms", "max ms"],
            [
                (r.name, r.status, r.rows, "", "", "", "")
                if r.times_ms is None
                else (
                    r.name, r.status, r.rows, r.queries, f"{statistics.median(r.times_ms):.1f}",
                    f"{min(r.times_ms):.1f}", f"{max(r.times_ms):.1f}",
                )
                for r in results
            ],
        )  # fmt: skip
        print(f"\n(queries of one request after {WARM_UPS} warm-ups; then median, min and max of {TIMED} requests)")

        with organization_scope(tenant.organization):
            sample = [tenant.big_package, *PatientPackage.objects.order_by("pk")[1::100]]
            drifts = {p.number: ledger.package_reconcile(p).differences for p in sample}
        bad = {number: diff for number, diff in drifts.items() if diff}
        print(f"reconcile sample: {len(sample)} packages, {len(bad)} with differences")
        for number, diff in list(bad.items())[:10]:
            print(f"  {number}: {diff}")
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
