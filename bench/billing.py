"""Billing's figures, each beside its anchor in the same run.

    scripts/with-test-services .venv/bin/python bench/billing.py

1. The receivables page and API in an organization with 100,000
   receivables: SQL queries of one request and server time (median, min, max
   of 20 after 3 warm-ups, `django.test.Client`, in process) for a filter
   that matches 1 receivable and one that matches 1,000 (a page of 200 for
   the API, 50 for the page): the queries must not grow with the rows.
2. Payments per second through the API (`POST /api/v1/payments/`, cash, one
   session receivable each) with 8 clients on a real gunicorn (4 workers,
   `CONN_MAX_AGE=60`), beside a trivial authenticated `GET /api/v1/clinics/`
   on the same server in the same run; the ratio is the figure.
3. The receipt PDF (`billing.exporters.receipt_pdf`: reading the payment's
   lines, rendering the template, WeasyPrint) against raw WeasyPrint
   rendering the same HTML string: the ratio is what the receipt adds.

The 100,000 receivables are written with `bulk_create` (sessions without an
appointment, as a deleted session's receivable is, and package
installments); the payments of part 2 pay receivables booked through
`scheduling.services.appointment_book`, as staff do.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import statistics
import time
from dataclasses import dataclass, field
from decimal import Decimal

import _harness  # first: sets Django up
import booking_throughput as bt
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import services as billing
from billing.exporters import receipt_html, receipt_pdf
from billing.models import Receivable, ReceivableKind, ReceivableStatus
from billing.reconcile import billing_reconcile
from clinic import resources, services, tokens
from clinic.normalize import search_key
from clinic.tenancy import organization_scope
from packages.catalog.services import service_create
from patients import services as patient_services
from patients.models import Patient
from scheduling import services as scheduling

RECEIVABLES = 100_000
PATIENTS = 2_000
MATCHING = 1_000  # receivables of the "many" patient
CHUNK = 5_000
WARM_UPS = 3
TIMED = 20
PAYMENTS_PER_CLIENT = 120
PDF_RUNS = 10


@dataclass
class PayingClient:
    """What one client thread pays: its receivables, in order."""

    receivables: list[int]
    patients: dict[int, int]  # receivable -> patient
    paid: int = 0
    packages: list[tuple[int, int]] = field(default_factory=list)


def build_pages_fixture(owner_clinic, organization) -> tuple[int, int]:
    """100,000 receivables over 2,000 patients; one patient holds 1,000 of
    them and another exactly one. Returns (one's id, many's id)."""
    clinic = owner_clinic
    patients = Patient.objects.bulk_create(
        [
            Patient(
                organization=organization,
                clinic=clinic,
                full_name=f"Paciente {n:05d}",
                name_search=search_key(f"Paciente {n:05d}"),
            )
            for n in range(PATIENTS)
        ]
    )
    one, many, others = patients[0], patients[1], patients[2:]
    today = timezone.localdate()
    rows: list[Receivable] = []

    def receivable(patient: Patient, n: int) -> Receivable:
        paid = Decimal("100.00") if n % 3 == 0 else (Decimal("40.00") if n % 3 == 1 else Decimal("0.00"))
        status = {Decimal("100.00"): ReceivableStatus.PAID, Decimal("40.00"): ReceivableStatus.PARTIAL}.get(
            paid, ReceivableStatus.OPEN
        )
        return Receivable(
            organization=organization, clinic=clinic, patient=patient, kind=ReceivableKind.SESSION,
            description="Sessão de fisioterapia", due_date=today - dt.timedelta(days=n % 365),
            amount=Decimal("100.00"), paid=paid, status=status,
        )  # fmt: skip

    rows.append(receivable(one, 0))
    rows += [receivable(many, n) for n in range(MATCHING)]
    left = RECEIVABLES - len(rows)
    rows += [receivable(others[n % len(others)], n) for n in range(left)]
    for start in range(0, len(rows), CHUNK):
        Receivable.objects.bulk_create(rows[start : start + CHUNK])
    return one.pk, many.pk


def measure(client: Client, url: str) -> tuple[int, int, int, float, float, float]:
    response = client.get(url)
    status = response.status_code
    rows = len(response.json()["results"]) if url.startswith("/api/") and status == 200 else -1
    for _ in range(WARM_UPS):
        client.get(url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Now: the next request resets the connection's log that `captured_queries` reads.
    queries = len(captured.captured_queries)
    times = []
    for _ in range(TIMED):
        began = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - began) * 1000)
    return status, rows, queries, statistics.median(times), min(times), max(times)


def pages(owner, organization, clinic) -> None:
    with organization_scope(organization):
        one, many = build_pages_fixture(clinic, organization)
    client = Client()
    client.force_login(owner)
    token = tokens.token_issue(user=owner, name="bench")[1]
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    rows = []
    for label, who, page_size in (("1 matching", one, 200), (f"{MATCHING:,} matching", many, 200)):
        url = f"/api/v1/receivables/?patient={who}&status=all&page_size={page_size}"
        rows.append((f"API {label}", url, *measure(api, url)))
    for label, who in (("1 matching", one), (f"{MATCHING:,} matching", many)):
        url = f"/finance/?patient={who}&status=all"
        rows.append((f"page {label}", url, *measure(client, url)))
    print(f"1. receivables with {RECEIVABLES:,} in the organization")
    _harness.print_table(
        ["request", "url", "status", "rows", "queries", "median ms", "min ms", "max ms"],
        [(r[0], r[1], r[2], r[3] if r[3] >= 0 else "page of 50", r[4], f"{r[5]:.1f}", f"{r[6]:.1f}", f"{r[7]:.1f}")
         for r in rows],
    )  # fmt: skip
    print()


def payments_fixture(organization, clinic, owner) -> bt.Fixture:
    token = tokens.token_issue(user=owner, name="bench")[1]
    start = (timezone.now() + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    clients = []
    with organization_scope(organization):
        service = service_create(clinic=clinic, name="Sessão avulsa", code="AVULSA", price=Decimal("100.00"),
                                 duration_minutes=30)  # fmt: skip
        for c in range(bt.CLIENTS):
            professional = resources.professional_create(clinic=clinic, name=f"Profissional {c:02d}")
            patient = patient_services.patient_create(
                clinic=clinic, fields={"full_name": f"Pagante {c:02d}"}, professionals=[professional]
            )
            receivables, patients = [], {}
            for n in range(PAYMENTS_PER_CLIENT * bt.ROUNDS + 10):
                booking = scheduling.appointment_book(
                    clinic=clinic, patient=patient, start=start + dt.timedelta(minutes=30 * n), actor=owner,
                    lines=[scheduling.LineInput(service)], professional=professional,
                )  # fmt: skip
                pk = Receivable.objects.get(appointment=booking.appointment).pk
                receivables.append(pk)
                patients[pk] = patient.pk
            clients.append(PayingClient(receivables, patients))
    return bt.Fixture(organization, token, service.pk, clients)  # type: ignore[arg-type]


def pay_one(api: bt.Api, fixture: bt.Fixture, client: PayingClient) -> str | None:  # type: ignore[override]
    receivable = client.receivables[client.paid]
    client.paid += 1
    status, body = api.call(
        "POST", "/api/v1/payments/",
        {"patient": client.patients[receivable], "method": "cash", "amount": "100.00", "receivables": [receivable]},
    )  # fmt: skip
    return None if status == 201 else f"POST {status}: {body[:200]!r}"


def throughput(organization, clinic, owner) -> list[str]:
    fixture = payments_fixture(organization, clinic, owner)
    connections.close_all()
    configuration = bt.CONFIGURATIONS["persistent"]
    print(
        f"2. payments through the API, {bt.CLIENTS} clients, gunicorn {bt.WORKERS} workers, {configuration.describe()}"
    )
    with bt.server(configuration) as port:
        bt.run("warm-up GET", bt.trivial_get, fixture, port, bt.WARM_UP_GETS, 1)
        bt.run("warm-up payment", pay_one, fixture, port, 2, 1)  # type: ignore[arg-type]
        trivial = bt.Result("trivial GET /api/v1/clinics/", 1)
        paying = bt.Result("POST /api/v1/payments/ (cash, one session)", 1)
        for _ in range(bt.ROUNDS):
            trivial.add(bt.run(trivial.scenario, bt.trivial_get, fixture, port, bt.GETS_PER_CLIENT, 1))
            paying.add(bt.run(paying.scenario, pay_one, fixture, port, PAYMENTS_PER_CLIENT, 1))  # type: ignore[arg-type]
    _harness.print_table(
        ["scenario", "ops", "failed", "seconds", "ops/s"],
        [(r.scenario, r.done, r.failed, f"{r.seconds:.2f}", f"{r.ops_per_second:.1f}") for r in (trivial, paying)],
    )
    if trivial.ops_per_second and paying.ops_per_second:
        print(
            f"ratio payments/GET: {paying.ops_per_second / trivial.ops_per_second:.3f}; by round: "
            + ", ".join(f"{a / b:.3f}" for a, b in zip(paying.rounds, trivial.rounds, strict=True))
        )
    for error in (trivial.errors + paying.errors)[:5]:
        print(f"  {error}")
    problems = []
    with organization_scope(organization):
        for client in fixture.clients:
            for patient in set(client.patients.values()):  # type: ignore[attr-defined]
                problems += billing_reconcile(patient)
    print(f"reconciliation after the run: {'every patient adds up' if not problems else problems[:5]}")
    print()
    return problems + (trivial.errors + paying.errors)


def receipt(organization, clinic, owner) -> None:
    from weasyprint import HTML

    with organization_scope(organization):
        professional = resources.professional_create(clinic=clinic, name="Profissional do recibo")
        patient = patient_services.patient_create(
            clinic=clinic, fields={"full_name": "Recibo Exemplo"}, professionals=[professional]
        )
        service = service_create(clinic=clinic, name="Sessão recibo", code="RECIBO", price=Decimal("120.00"),
                                 duration_minutes=30)  # fmt: skip
        start = (timezone.now() + dt.timedelta(days=400)).replace(hour=9, minute=0, second=0, microsecond=0)
        ids = []
        for n in range(4):
            booking = scheduling.appointment_book(clinic=clinic, patient=patient, start=start + dt.timedelta(days=n),
                                                  actor=owner, lines=[scheduling.LineInput(service)])  # fmt: skip
            ids.append(Receivable.objects.get(appointment=booking.appointment).pk)
        payment = billing.payment_take(clinic=clinic, patient=patient, method="card", amount=Decimal("480.00"),
                                       receivables=ids, actor=owner)  # fmt: skip
        html = receipt_html(payment)
        HTML(string=html).write_pdf()  # warm-up: fonts
        receipt_pdf(payment)
        ours, raw = [], []
        for _ in range(PDF_RUNS):
            began = time.perf_counter()
            receipt_pdf(payment)
            ours.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            HTML(string=html).write_pdf()
            raw.append((time.perf_counter() - began) * 1000)
    print(f"3. receipt PDF (4 sessions), median of {PDF_RUNS}")
    _harness.print_table(
        ["rendering", "median ms", "min ms", "max ms"],
        [("receipt_pdf (lines + template + WeasyPrint)", f"{statistics.median(ours):.1f}", f"{min(ours):.1f}",
          f"{max(ours):.1f}"),
         ("raw WeasyPrint, same HTML", f"{statistics.median(raw):.1f}", f"{min(raw):.1f}", f"{max(raw):.1f}")],
    )  # fmt: skip
    print(f"ratio raw/ours: {statistics.median(raw) / statistics.median(ours):.3f}")


def main() -> None:
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its progress steps, at INFO
    with _harness.throwaway_database():
        print(_harness.environment())
        organization, clinic, owner = services.organization_create(
            name="Benchmark billing", owner_username="bench-billing", owner_password=secrets.token_urlsafe(16),
            clinic_name="Benchmark central",
        )  # fmt: skip
        pages(owner, organization, clinic)
        problems = throughput(organization, clinic, owner)
        receipt(organization, clinic, owner)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
