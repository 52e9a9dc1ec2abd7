"""SQL queries and server time of one week of the calendar with 2,000 appointments.

    scripts/with-test-services .venv/bin/python bench/calendar_feed.py

Builds one organization whose clinic has 500 patients, 10 professionals, 5
services and 2,000 appointments in one week (Monday to Sunday in the clinic's
time zone, 200 per professional, back to back, none overlapping), then
fetches that week as its owner, through `django.test.Client` (`force_login`):

- the API `GET /api/v1/appointments/?start=<week start>&end=<week end>&page_size=200`,
  following `next` until the last page (10 requests): SQL queries of each
  page request (`CaptureQueriesContext`), and the server time of a whole week
  fetch, median, minimum and maximum of 10 fetches after 2 warm-ups;
- the calendar feed `GET /calendar/feed/?start=&end=` once for the week, with
  the same figures, when it exists; otherwise "not available".

The time is the whole request in this process (middleware, views,
serializers), without a network or web server.

The fixture bypasses `scheduling.services.appointment_book` on purpose:
through the service, 2,000 bookings (each with its overlap check, status
lookup and transaction) would make the set-up the slow part, and the rows the
benchmark reads are the same. Patients, appointments and their service lines
are written with `bulk_create` (which also skips django-simple-history); the
appointments follow the booking rules that matter to the feed: a
professional's appointments never overlap (the database's exclusion
constraint would refuse them), each has one service line at the service's
price, and none is linked to a package, so no ledger rows are needed.
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import _harness  # first: sets Django up
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from django.utils import timezone

from clinic import resources, services
from clinic.models import Clinic, Organization, Professional, User
from clinic.normalize import search_key
from clinic.tenancy import organization_scope
from packages.catalog.models import Service
from packages.catalog.services import service_create
from patients.models import Patient
from scheduling.models import Appointment, AppointmentLine

APPOINTMENTS = 2_000
PROFESSIONALS = 10
PATIENTS = 500
SERVICES = 5
SLOT_MINUTES = 30
DAY_STARTS_AT = 7  # hour of the first appointment of a day, clinic time
SLOTS_PER_DAY = 29  # 07:00 to 21:30: 7 days x 29 slots >= 200 per professional
PAGE_SIZE = 200
WARM_UPS = 2
TIMED = 10
STATUSES = ["scheduled", "confirmed", "attended", "missed"]


@dataclass
class Tenant:
    organization: Organization
    clinic: Clinic
    owner: User
    week_start: dt.datetime
    week_end: dt.datetime


def next_monday(clinic: Clinic) -> dt.datetime:
    """Midnight of next Monday in the clinic's time zone: a whole week ahead."""
    zone = ZoneInfo(clinic.time_zone)
    today = timezone.localdate(timezone=zone)
    monday = today + dt.timedelta(days=7 - today.weekday())
    return dt.datetime.combine(monday, dt.time(0, 0), tzinfo=zone)


def build() -> Tenant:
    organization, clinic, owner = services.organization_create(
        name="Benchmark clinic",
        owner_username="bench-owner",
        owner_password=secrets.token_urlsafe(16),
        clinic_name="Benchmark central",
    )
    week_start = next_monday(clinic)
    with organization_scope(organization):
        professionals = [
            resources.professional_create(clinic=clinic, name=f"Profissional {n:02d}") for n in range(PROFESSIONALS)
        ]
        catalog = [
            service_create(
                clinic=clinic,
                name=f"Serviço {n}",
                code=f"SRV-{n}",
                price=Decimal(80 + 10 * n),
                duration_minutes=SLOT_MINUTES,
            )
            for n in range(SERVICES)
        ]
        names = [f"Paciente {n:04d} de Benchmark" for n in range(PATIENTS)]
        patients = Patient.objects.bulk_create(
            [
                Patient(organization=organization, clinic=clinic, full_name=name, name_search=search_key(name))
                for name in names
            ]
        )
        _book_week(organization, clinic, owner, professionals, patients, catalog, week_start)
    return Tenant(organization, clinic, owner, week_start, week_start + dt.timedelta(days=7))


def _book_week(
    organization: Organization,
    clinic: Clinic,
    owner: User,
    professionals: list[Professional],
    patients: list[Patient],
    catalog: list[Service],
    week_start: dt.datetime,
) -> None:
    """200 back-to-back appointments per professional: slot i of a professional
    is day i // 29 at 07:00 + 30 min x (i % 29), clinic time."""
    per_professional = APPOINTMENTS // PROFESSIONALS
    assert per_professional <= 7 * SLOTS_PER_DAY
    appointments: list[Appointment] = []
    services_of: list[Service] = []
    for p, professional in enumerate(professionals):
        for i in range(per_professional):
            day, slot = divmod(i, SLOTS_PER_DAY)
            local = dt.datetime.combine(
                (week_start + dt.timedelta(days=day)).date(),
                dt.time(DAY_STARTS_AT),
                tzinfo=week_start.tzinfo,
            ) + dt.timedelta(minutes=SLOT_MINUTES * slot)
            start = local.astimezone(dt.UTC)
            n = p * per_professional + i
            status = STATUSES[n % len(STATUSES)]
            appointments.append(
                Appointment(
                    organization=organization,
                    clinic=clinic,
                    patient=patients[n % len(patients)],
                    professional=professional,
                    start=start,
                    end=start + dt.timedelta(minutes=SLOT_MINUTES),
                    status=status,
                    holds_slot=True,
                    created_by=owner,
                )
            )
            services_of.append(catalog[n % len(catalog)])
    appointments = Appointment.objects.bulk_create(appointments, batch_size=1000)
    AppointmentLine.objects.bulk_create(
        [
            AppointmentLine(
                organization=organization, appointment=appointment, service=service, quantity=1, price=service.price
            )
            for appointment, service in zip(appointments, services_of, strict=True)
        ],
        batch_size=1000,
    )


@dataclass
class Page:
    status: int
    rows: int
    queries: int


def week_pages(client: Client, path: str, *, capture: bool) -> tuple[list[Page], int]:
    """Fetch every page of the week, following `next`; rows counted from the
    results. Returns the pages and the total rows."""
    pages: list[Page] = []
    total = 0
    url: str | None = path
    while url:
        if capture:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            queries = len(captured.captured_queries)
        else:
            response = client.get(url)
            queries = 0
        if response.status_code != 200:
            pages.append(Page(response.status_code, 0, queries))
            break
        body = response.json()
        rows = len(body["results"])
        total += rows
        pages.append(Page(response.status_code, rows, queries))
        following = body.get("next")
        # `next` is absolute (http://testserver/...): the client wants the path.
        url = None
        if following:
            parts = urlsplit(following)
            url = f"{parts.path}?{parts.query}"
        if len(pages) > 100:  # a `next` that never ends would be a bug; do not loop forever
            raise RuntimeError("more than 100 pages: the pagination does not end")
    return pages, total


def timed(fetch: Callable[[], object]) -> list[float]:
    for _ in range(WARM_UPS):
        fetch()
    times = []
    for _ in range(TIMED):
        began = time.perf_counter()
        fetch()
        times.append((time.perf_counter() - began) * 1000)
    return times


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.1f} ms (min {min(times):.1f}, max {max(times):.1f})"


def measure_api(client: Client, tenant: Tenant) -> None:
    query = urlencode(
        {"start": tenant.week_start.isoformat(), "end": tenant.week_end.isoformat(), "page_size": PAGE_SIZE}
    )
    path = f"/api/v1/appointments/?{query}"
    print(f"API week: GET {path}")
    pages, total = week_pages(client, path, capture=False)  # first request: caches, connection
    pages, total = week_pages(client, path, capture=True)
    _harness.print_table(
        ["page", "status", "rows", "queries"],
        [(n, page.status, page.rows, page.queries) for n, page in enumerate(pages, 1)],
    )
    if any(page.status != 200 for page in pages):
        print(f"error: a page answered {next(p.status for p in pages if p.status != 200)}; no timing")
        return
    counts = [page.queries for page in pages]
    print(
        f"{len(pages)} page requests, {total} appointments; queries per page request: "
        f"min {min(counts)}, max {max(counts)}, total {sum(counts)} per week"
    )
    times = timed(lambda: week_pages(client, path, capture=False))
    print(f"server time per full week fetch ({len(pages)} requests), {TIMED} fetches after {WARM_UPS} warm-ups: "
          f"{summary(times)}")  # fmt: skip


def measure_feed(client: Client, tenant: Tenant) -> None:
    query = urlencode({"start": tenant.week_start.isoformat(), "end": tenant.week_end.isoformat()})
    path = f"/calendar/feed/?{query}"
    try:
        resolve("/calendar/feed/")
    except Resolver404:
        print("calendar feed /calendar/feed/: not available")
        return
    response = client.get(path)
    if response.status_code == 404:
        print("calendar feed /calendar/feed/: not available (404)")
        return
    print(f"calendar feed: GET {path}")
    if response.status_code >= 400:
        error = getattr(response, "exc_info", None)
        detail = f": {error[0].__name__}: {error[1]}" if error else ""
        print(f"error {response.status_code}{detail}; no timing")
        return
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    rows = "?"
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, list):
            rows = str(len(body))
        elif isinstance(body, dict):
            items = body.get("results", body.get("events"))
            rows = str(len(items)) if isinstance(items, list) else "?"
    print(
        f"status {response.status_code}, {rows} events, {len(response.content):,} bytes, "
        f"{len(captured.captured_queries)} queries in one request"
    )
    times = timed(lambda: client.get(path))
    print(f"server time per full week fetch (1 request), {TIMED} fetches after {WARM_UPS} warm-ups: {summary(times)}")


def main() -> None:
    with _harness.throwaway_database():
        print(_harness.environment())
        began = time.perf_counter()
        tenant = build()
        built = time.perf_counter() - began
        with organization_scope(tenant.organization):
            in_week = Appointment.objects.filter(start__lt=tenant.week_end, end__gt=tenant.week_start).count()
            lines = AppointmentLine.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have them in production
        print(
            f"fixture: {PATIENTS} patients, {PROFESSIONALS} professionals, {SERVICES} services, "
            f"{in_week} appointments ({lines} lines) in the week of {tenant.week_start:%Y-%m-%d} "
            f"({tenant.clinic.time_zone}), built in {built:.1f} s\n"
        )
        # A page that fails answers 500 here instead of stopping the benchmark.
        client = Client(raise_request_exception=False)
        client.force_login(tenant.owner)
        measure_api(client, tenant)
        print()
        measure_feed(client, tenant)


if __name__ == "__main__":
    main()
