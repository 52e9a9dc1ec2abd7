"""The payment receipt as a PDF (WeasyPrint) and the commissions report as
Excel (openpyxl, streamed); both libraries are imported inside the functions
that use them, so start-up and tests that print nothing stay fast."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.commissions import ProfessionalCommissions
from billing.models import Method, Payment, Receivable
from billing.services import net_by_receivable
from clinic import money
from clinic.spreadsheets import Sheet
from packages.patient_packages.models import EntryKind, LedgerEntry


@dataclass(frozen=True)
class ReceiptLine:
    receivable: Receivable
    amount: Decimal
    # For a session paid from a package: "session 4 of 10, 6 remaining".
    position: int | None = None
    total: int | None = None
    remaining: int | None = None


def receipt_lines(payment: Payment) -> list[ReceiptLine]:
    """What the payment still pays, one line per receivable, with each
    package session's place in its package."""
    net = net_by_receivable(payment)
    rows = (
        Receivable.objects.filter(pk__in=net)
        .select_related("appointment", "patient_package")
        .order_by("due_date", "pk")
    )
    positions: dict[int, LedgerEntry] = {}
    if payment.method == Method.PACKAGE:
        sessions = [r.appointment_id for r in rows if r.appointment_id]
        debits = LedgerEntry.objects.filter(
            package_id=payment.patient_package_id, kind=EntryKind.DEBIT, session__in=sessions
        ).order_by("seq")
        positions = {entry.session: entry for entry in debits}  # type: ignore[misc]
    lines = []
    for receivable in rows:
        entry = positions.get(receivable.appointment_id) if receivable.appointment_id else None
        if entry is not None:
            lines.append(ReceiptLine(receivable, net[receivable.pk], entry.sessions_used, entry.sessions_total,
                                     entry.sessions_total - entry.sessions_used))  # fmt: skip
        else:
            lines.append(ReceiptLine(receivable, net[receivable.pk]))
    return lines


def receipt_html(payment: Payment) -> str:
    refunded = sum((refund.amount for refund in payment.refunds.all()), Decimal("0.00"))
    context = {
        "payment": payment,
        "clinic": payment.clinic,
        "lines": receipt_lines(payment),
        "refunded": refunded,
        "currency": payment.clinic.currency,
    }
    return render_to_string("billing/receipt.html", context)


def receipt_pdf(payment: Payment) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=receipt_html(payment)).write_pdf()
    return pdf


def commissions_xlsx(report: list[ProfessionalCommissions], *, currency: str, time_zone: str, title: str) -> bytes:
    """The commissions report as an .xlsx file: one row per session (debited
    or credited back) with real date and currency cells, and each
    professional's total."""
    columns = [
        (_("Professional"), 28), (_("Date"), 17), (_("Session"), 17), (_("Patient"), 30), (_("Package"), 14),
        (_("Session value"), 15), (_("Commission"), 14), (_("What"), 16),
    ]  # fmt: skip
    tz = ZoneInfo(time_zone)
    money_format = money.excel_currency_format(currency)
    out = Sheet(name=_("Commissions"), title=title, columns=columns)
    cell = out.cell

    def local(moment: dt.datetime | None) -> dt.datetime | None:
        return timezone.localtime(moment, tz).replace(tzinfo=None) if moment else None

    for professional in report:
        name = professional.name or _("No professional")
        for line in professional.lines:
            out.append([
                name, cell(local(line.when), "DD/MM/YYYY HH:MM"), cell(local(line.session_start), "DD/MM/YYYY HH:MM"),
                line.patient, line.package, cell(line.value, money_format), cell(line.commission, money_format),
                _("Credited back") if line.reversal else _("Debited"),
            ])  # fmt: skip
        out.append([cell(_("Total %(name)s") % {"name": name}, bold=True), None, None, None, None, None,
                    cell(professional.total, money_format, bold=True), None])  # fmt: skip
    return out.save()
