"""Billing's reconciliation: every cached figure equals what its rows add up
to (a receivable's `paid` and status, the patient's account credit), and no
payment is allocated or refunded beyond its amount."""

from __future__ import annotations

from django.db.models import Sum

from billing.models import ZERO, Allocation, Method, PatientAccount, Payment, Receivable
from billing.receivables import status_of
from billing.services import with_rest


def billing_reconcile(patient_id: int) -> list[str]:
    """What disagrees for this patient (empty: everything adds up)."""
    problems = []
    sums = dict(
        Allocation.objects.filter(receivable__patient_id=patient_id)
        .values("receivable")
        .annotate(total=Sum("amount"))
        .values_list("receivable", "total")
    )
    for receivable in Receivable.objects.filter(patient_id=patient_id):
        allocated = sums.get(receivable.pk, ZERO)
        if receivable.paid != allocated:
            problems.append(f"receivable {receivable.pk}: paid {receivable.paid}, allocations add up to {allocated}")
        if receivable.status != status_of(receivable):
            problems.append(
                f"receivable {receivable.pk}: status {receivable.status}, should be {status_of(receivable)}"
            )
        if receivable.status == "cancelled" and receivable.paid:
            problems.append(f"receivable {receivable.pk}: cancelled with {receivable.paid} paid on it")
    credit = ZERO
    for payment in with_rest(Payment.objects.filter(patient_id=patient_id)):
        rest = payment.rest  # type: ignore[attr-defined]
        if rest < 0:
            problems.append(f"payment {payment.number}: {-rest} more allocated or refunded than received")
        if payment.method != Method.PACKAGE:
            credit += rest
        elif rest:
            problems.append(f"payment {payment.number} from a package: {rest} neither allocated nor refunded")
    stored = PatientAccount.objects.filter(patient_id=patient_id).values_list("credit", flat=True).first() or ZERO
    if stored != credit:
        problems.append(f"account credit {stored}, payments leave {credit}")
    return problems
