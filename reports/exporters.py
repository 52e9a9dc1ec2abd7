"""The general package report as Excel (openpyxl, write-only: rows are
streamed, so memory stays flat however many there are) and the package's
session card as PDF (WeasyPrint). Both libraries are imported inside the
functions that use them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import money
from clinic.spreadsheets import Progress, Sheet, new_workbook, save
from packages.patient_packages import budgets
from packages.patient_packages.models import LedgerEntry, PatientPackage
from patients.models import Patient
from reports import selectors
from scheduling.models import AppointmentStatus

CHUNK = 500
DATE = "DD/MM/YYYY"
DATETIME = "DD/MM/YYYY HH:MM"


def _local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    return timezone.localtime(moment, tz).replace(tzinfo=None) if moment else None


def package_report_xlsx(rows: Iterable[PatientPackage], *, title: str, currency: str, time_zone: str,
                        progress: Progress | None = None) -> bytes:  # fmt: skip
    columns: list[tuple[str, int]] = [
        (_("Status"), 12), (_("Total value"), 14), (_("Current money balance"), 16), (_("Price per session"), 15),
        (_("Total sessions"), 10), (_("Used sessions"), 10), (_("Remaining sessions"), 11), (_("Patient"), 30),
        (_("Number"), 12), (_("Template"), 30), (_("Clinic"), 24), (_("Linked on"), 12), (_("Last session"), 16),
        (_("Free to book"), 10),
    ]  # fmt: skip
    tz = ZoneInfo(time_zone)
    money_format = money.excel_currency_format(currency)
    out = Sheet(name=_("Packages"), title=title, columns=columns, progress=progress)
    cell = out.cell
    batch: list[PatientPackage] = []

    def flush() -> None:
        balances = budgets.balances(batch)
        for package in batch:
            out.append([
                package.get_status_display(), cell(package.amount_total, money_format),
                cell(package.amount_open, money_format), cell(package.average_price, money_format),
                cell(package.sessions_total, "0"), cell(package.sessions_used, "0"),
                cell(package.sessions_total - package.sessions_used, "0"), package.patient.full_name, package.number,
                package.template.name if package.template else package.name, package.clinic.name,
                cell(timezone.localtime(package.created_at, tz).date(), DATE),
                cell(_local(getattr(package, "last_session", None), tz), DATETIME),
                cell(balances[package.pk].free, "0"),
            ])  # fmt: skip
        batch.clear()

    source = rows.iterator(chunk_size=CHUNK) if isinstance(rows, QuerySet) else rows
    for package in source:
        batch.append(package)
        if len(batch) == CHUNK:
            flush()
    flush()
    return out.save()


def session_card_html(package: PatientPackage, appointments: Sequence[Any], *, size: str, card_url: str) -> str:
    """The card: one numbered row per session of the package, whatever its
    status, and empty numbered rows for the sessions not yet booked."""
    import segno

    statuses = {status.code: status.display_name for status in AppointmentStatus.objects.all()}
    tz = ZoneInfo(package.clinic.time_zone)
    rows = [
        {
            "n": n,
            "start": timezone.localtime(a.start, tz),
            "professional": a.professional.name if a.professional else "",
            "status": statuses.get(a.status, a.status),
        }
        for n, a in enumerate(appointments, start=1)
    ]
    empty = range(len(rows) + 1, max(package.sessions_total, len(rows)) + 1)
    context = {
        "package": package,
        "clinic": package.clinic,
        "patient": package.patient,
        "rows": rows,
        "empty": empty,
        "size": size,
        "qr": segno.make(card_url, error="m").svg_data_uri(scale=3, border=1),
        "card_url": card_url,
    }
    return render_to_string("reports/session_card.html", context)


def session_card_pdf(html: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def sales_and_usage_xlsx(report: selectors.SalesAndUsage, *, title: str, currency: str, time_zone: str) -> bytes:
    """Three sheets: packages sold, sessions used, packages to call about."""
    tz = ZoneInfo(time_zone)
    money_format = money.excel_currency_format(currency)
    workbook = new_workbook()
    direct = _("Direct package")
    sold = Sheet(workbook=workbook, name=_("Sold"), title=title,
                 columns=[(_("Template"), 36), (_("Packages"), 11), (_("Value"), 15)])  # fmt: skip
    for line in report.sold:
        sold.append([line.name or direct, sold.cell(line.packages, "0"), sold.cell(line.value, money_format)])
    used = Sheet(workbook=workbook, name=_("Used"), title=title,
                 columns=[(_("Template"), 36), (_("Sessions"), 11), (_("Value"), 15)])  # fmt: skip
    for usage in report.used:
        used.append([usage.name or direct, used.cell(usage.sessions, "0"), used.cell(usage.value, money_format)])
    calls = Sheet(workbook=workbook, name=_("To call"), title=title, columns=[
        (_("Patient"), 30), (_("Mobile"), 18), (_("Package"), 32), (_("Number"), 12), (_("Free to book"), 10),
        (_("Expires on"), 12),
    ])  # fmt: skip
    for package in report.running_out:
        expires = getattr(package, "expires", None)
        calls.append([
            package.patient.full_name, package.patient.mobile,
            package.template.name if package.template else package.name,
            package.number, calls.cell(getattr(package, "free", None), "0"),
            calls.cell(timezone.localtime(expires, tz).date() if expires else None, DATE),
        ])  # fmt: skip
    return save(workbook, sold, used, calls)


def patient_packages_xlsx(patient: Patient, packages: Sequence[PatientPackage], entries: Iterable[LedgerEntry],
                          *, currency: str, time_zone: str, progress: Progress | None = None) -> bytes:  # fmt: skip
    """A patient's packages (seed 001): one sheet of packages, one of their history."""
    from packages.patient_packages.history import history_rows

    tz = ZoneInfo(time_zone)
    money_format = money.excel_currency_format(currency)
    workbook = new_workbook()
    title = _("Packages of %(name)s") % {"name": patient.full_name}
    sheet = Sheet(workbook=workbook, name=_("Packages"), title=title, progress=progress, columns=[
        (_("Number"), 12), (_("Package"), 32), (_("Status"), 12), (_("Linked on"), 12), (_("Total value"), 14),
        (_("Current money balance"), 16), (_("Total sessions"), 10), (_("Used sessions"), 10),
        (_("Remaining sessions"), 11),
    ])  # fmt: skip
    names = {}
    for package in packages:
        names[package.pk] = package.number
        sheet.append([
            package.number, package.name, package.get_status_display(),
            sheet.cell(timezone.localtime(package.created_at, tz).date(), DATE),
            sheet.cell(package.amount_total, money_format), sheet.cell(package.amount_open, money_format),
            sheet.cell(package.sessions_total, "0"), sheet.cell(package.sessions_used, "0"),
            sheet.cell(package.sessions_total - package.sessions_used, "0"),
        ])  # fmt: skip
    history = Sheet(workbook=workbook, name=_("History"), title=title, progress=progress, columns=[
        (_("Package"), 12), (_("Type"), 20), (_("Date"), 16), (_("Status"), 12), (_("Note"), 60),
        (_("Session balance"), 10), (_("Money balance"), 14), (_("Average value"), 14), (_("By"), 24),
    ])  # fmt: skip
    automatic = _("automatic")
    source = entries.iterator(chunk_size=CHUNK) if isinstance(entries, QuerySet) else iter(entries)
    while chunk := list(islice(source, CHUNK)):  # a chunk at a time: memory stays flat
        for entry, row in zip(chunk, history_rows(chunk, tz, currency), strict=True):
            history.append([
                names.get(entry.package_id, ""), row.kind_label, history.cell(_local(row.created_at, tz), DATETIME),
                row.status_label, row.note, history.cell(row.sessions_balance, "0"),
                history.cell(row.amount_balance, money_format), history.cell(row.average_price, money_format),
                (row.actor.get_full_name() or row.actor.username) if row.actor else automatic,
            ])  # fmt: skip
    return save(workbook, sheet, history)
