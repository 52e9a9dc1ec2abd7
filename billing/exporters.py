"""The payment receipt as a PDF (WeasyPrint, imported here only, so start-up
and tests that print nothing stay fast)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.template.loader import render_to_string

from billing.models import Allocation, Method, Payment, Receivable
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
    sums = (
        Allocation.objects.filter(payment=payment)
        .values("receivable")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
        .values_list("receivable", "total")
    )
    net = dict(sums)
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
