"""Reports' figures, each beside its anchor in the same run.

    scripts/with-test-services .venv/bin/python bench/reports.py

1. A patient's packages workbook with 20,000 and with 200,000 history rows
   (`reports.exporters.patient_packages_xlsx`: each row's note written as a
   person reads it, real cells) against raw XlsxWriter (constant memory)
   writing the same entries' cells (the anchor): time and the ratio (target
   at most 1.3x), and peak Python memory (tracemalloc) of each (target:
   flat, at most +50 MB from 20,000 to 200,000). openpyxl's write-only writer
   writing the same cells is timed too: the writer was chosen by this. The history
   rows are unsaved ledger entries made on the fly, so the figure is the
   writer's, not the database's.
2. The session card of a 10-session package (`session_card_html` +
   WeasyPrint) against raw WeasyPrint rendering the same HTML: warm
   medians and the ratio (target at most 1.2x, and under a second).
3. The package report page (`/reports/packages/`) with 10,000 packages in
   the organization: SQL queries and server time (median of 10 after 2
   warm-ups, in process).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from io import BytesIO

import _harness  # first: sets Django up
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic import services
from clinic.normalize import search_key
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import EntryKind, LedgerEntry, PackageStatus, PatientPackage
from patients.models import Patient
from reports import exporters, selectors

SIZES = (20_000, 200_000)
PACKAGES = 10_000
CARD_RUNS = 10


def entries(count: int, package: PatientPackage) -> Iterator[LedgerEntry]:
    """Ledger entries as the history shows them: debits, credits, a manual change now and then."""
    start = timezone.now() - dt.timedelta(days=365)
    for n in range(count):
        kind = EntryKind.MANUAL_CHANGE if n % 50 == 49 else (EntryKind.CREDIT if n % 10 == 9 else EntryKind.DEBIT)
        details: dict[str, object] = {"session": (start + dt.timedelta(hours=n)).isoformat(), "value": "100.00"}
        if kind == EntryKind.MANUAL_CHANGE:
            details = {"changes": [{"field": "amount_total", "from": "1000.00", "to": "1100.00"}]}
        yield LedgerEntry(
            organization_id=package.organization_id, package_id=package.pk, seq=n + 2, kind=kind, session=n,
            status=PackageStatus.ACTIVE, sessions_total=10, sessions_booked=0, sessions_used=3, amount_total=1000,
            amount_open=Decimal("700.00"), average_price=Decimal("100.00"), details=details,
            created_at=start + dt.timedelta(hours=n),
        )  # fmt: skip


def openpyxl_xlsx(count: int, package: PatientPackage) -> bytes:
    """The writer not chosen: openpyxl write-only writing the same rows (the
    same entries, the same typed cells and number formats), each value taken
    straight from the entry, without the history's wording."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("History")
    money_format = '"R$" #,##0.00;-"R$" #,##0.00'

    def cell(value: object, number_format: str) -> WriteOnlyCell:
        written = WriteOnlyCell(sheet, value=value)
        written.number_format = number_format
        return written

    for entry in entries(count, package):
        sheet.append([package.number, entry.kind, cell(entry.created_at.replace(tzinfo=None), "DD/MM/YYYY HH:MM"),
                      entry.status, f"{entry.kind} {entry.session}", cell(entry.sessions_balance, "0"),
                      cell(entry.amount_open, money_format), cell(entry.average_price, money_format), ""])  # fmt: skip
    output = BytesIO()
    workbook.save(output)
    return output.getvalue()


def xlsxwriter_xlsx(count: int, package: PatientPackage) -> bytes:
    """The anchor: raw XlsxWriter in constant-memory mode (the writer
    `clinic.spreadsheets` uses, chosen by this benchmark) writing the same
    cells, without the history's wording."""
    import xlsxwriter

    output = BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet("History")
    when = workbook.add_format({"num_format": "DD/MM/YYYY HH:MM"})
    integer = workbook.add_format({"num_format": "0"})
    money = workbook.add_format({"num_format": '"R$" #,##0.00;-"R$" #,##0.00'})
    for row, entry in enumerate(entries(count, package)):
        sheet.write_string(row, 0, package.number)
        sheet.write_string(row, 1, entry.kind)
        sheet.write_datetime(row, 2, entry.created_at.replace(tzinfo=None), when)
        sheet.write_string(row, 3, entry.status)
        sheet.write_string(row, 4, f"{entry.kind} {entry.session}")
        sheet.write_number(row, 5, entry.sessions_balance, integer)
        sheet.write_number(row, 6, entry.amount_open, money)
        sheet.write_number(row, 7, entry.average_price, money)
        sheet.write_string(row, 8, "")
    workbook.close()
    return output.getvalue()


def timed(work) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def peak(work) -> float:  # type: ignore[no-untyped-def]
    """Peak Python memory in MB (tracemalloc, which slows the run: timed apart)."""
    tracemalloc.start()
    work()
    _current, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 2**20


def excel(patient: Patient, package: PatientPackage) -> None:
    rows = []
    for count in SIZES:

        def ours(count: int = count) -> bytes:
            return exporters.patient_packages_xlsx(
                patient, [package], entries(count, package), currency="BRL", time_zone="America/Sao_Paulo"
            )

        def raw(count: int = count) -> bytes:
            return xlsxwriter_xlsx(count, package)

        def other(count: int = count) -> bytes:
            return openpyxl_xlsx(count, package)

        ours_s, raw_s, other_s = timed(ours), timed(raw), timed(other)
        rows.append((f"{count:,} history rows", f"{ours_s:.2f}", f"{raw_s:.2f}", f"{ours_s / raw_s:.2f}",
                     f"{other_s:.2f}", f"{other_s / raw_s:.2f}", f"{peak(ours):.1f}", f"{peak(raw):.1f}",
                     f"{peak(other):.1f}"))  # fmt: skip
    print("1. a patient's packages workbook (the history sheet; ours writes with XlsxWriter, constant memory)")
    print("   against raw XlsxWriter writing the same cells, and openpyxl write-only writing them (the other choice)")
    _harness.print_table(["rows", "ours s", "raw xlsxwriter s", "ratio", "openpyxl s", "openpyxl/xlsxwriter",
                          "ours peak MB", "xlsxwriter peak MB", "openpyxl peak MB"], rows)  # fmt: skip
    print()


def card(package: PatientPackage) -> None:
    from weasyprint import HTML

    html = exporters.session_card_html(package, selectors.session_card_rows(package), size="A4",
                                       card_url="https://clinic.example/p/1")  # fmt: skip
    exporters.session_card_pdf(html)  # warm-up: fonts
    ours, raw = [], []
    for _ in range(CARD_RUNS):
        began = time.perf_counter()
        exporters.session_card_pdf(
            exporters.session_card_html(
                package, selectors.session_card_rows(package), size="A4", card_url="https://clinic.example/p/1"
            )
        )
        ours.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        HTML(string=html).write_pdf()
        raw.append((time.perf_counter() - began) * 1000)
    print(f"2. session card (10 sessions, A4), median of {CARD_RUNS} warm renders")
    _harness.print_table(
        ["rendering", "median ms", "min ms", "max ms"],
        [("session card (rows + template + QR + WeasyPrint)", f"{statistics.median(ours):.1f}", f"{min(ours):.1f}",
          f"{max(ours):.1f}"),
         ("raw WeasyPrint, same HTML", f"{statistics.median(raw):.1f}", f"{min(raw):.1f}", f"{max(raw):.1f}")],
    )  # fmt: skip
    print(f"ratio ours/raw: {statistics.median(ours) / statistics.median(raw):.3f}\n")


def report_page(organization, clinic, owner) -> None:  # type: ignore[no-untyped-def]
    year = timezone.localdate().year
    patients = Patient.objects.bulk_create(
        [Patient(organization=organization, clinic=clinic, full_name=f"Paciente {n:05d}",
                 name_search=search_key(f"Paciente {n:05d}")) for n in range(PACKAGES // 4)]
    )  # fmt: skip
    PatientPackage.objects.bulk_create(
        [
            PatientPackage(
                organization=organization,
                clinic=clinic,
                patient=patients[n % len(patients)],
                number=f"{year}-{n + 100:05d}",
                name="Pacote 10 sessões",
                sessions_total=10,
                sessions_used=n % 10,
                amount_total=Decimal("1000.00"),
                amount_open=Decimal("1000.00") - (n % 10) * Decimal("100.00"),
                terms={},
                last_seq=1,
            )
            for n in range(PACKAGES)
        ],
        batch_size=2000,
    )
    client = Client()
    client.force_login(owner)
    url = "/reports/packages/"
    for _ in range(2):
        client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = len(captured.captured_queries)
    times = []
    for _ in range(10):
        began = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - began) * 1000)
    spread = f"min {min(times):.1f}, max {max(times):.1f}"
    print(
        f"3. the package report page with {PACKAGES:,} packages: status {response.status_code}, "
        f"{queries} queries, median {statistics.median(times):.1f} ms ({spread})"
    )


def main() -> None:
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    with _harness.throwaway_database():
        print(_harness.environment())
        organization, clinic, owner = services.organization_create(
            name="Benchmark reports", owner_username="bench-reports", owner_password=secrets.token_urlsafe(16),
            clinic_name="Benchmark central",
        )  # fmt: skip
        with organization_scope(organization):
            patient = Patient.objects.create(organization=organization, clinic=clinic, full_name="Paciente Relatório",
                                             name_search="paciente relatorio")  # fmt: skip
            package = ledger.package_link(patient=patient, clinic=clinic, actor=owner, sessions=10,
                                          total_price=Decimal("1000.00"))  # fmt: skip
            excel(patient, package)
            card(package)
            report_page(organization, clinic, owner)


if __name__ == "__main__":
    main()
