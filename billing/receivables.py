"""Receivables follow what they charge (B1, B4): the steps billing runs from
the hooks of the apps below it (`clinic.hooks`), inside their entry points.

A session owes its service lines' prices when it has no package or its
package posts per procedure; a session of a total-posting package owes
nothing of its own (the package's sale was charged). A releasing status
(cancelled, justified absence) or the session's deletion cancels its
receivable; what had been paid on it goes back to the patient's account
credit, or back to the package it was paid from. A no-show (missed) keeps
its charge. A receivable with something paid on it is never re-priced or
cancelled by a package change: the payment stands until it is refunded.

Lock order (after `scheduling.locks`): payments, then receivables in
primary-key order, then the patient's account, then the numbering counter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.models import (
    ZERO,
    Allocation,
    AllocationKind,
    Method,
    PatientAccount,
    Payment,
    Receivable,
    ReceivableKind,
    ReceivableStatus,
    Refund,
)
from clinic import money
from clinic.transactions import require_transaction
from packages.catalog.models import Posting
from packages.patient_packages.events import PackageEvent
from packages.patient_packages.models import PatientPackage
from scheduling.events import ChargeEvent
from scheduling.locks import LockedCharges
from scheduling.models import Appointment, AppointmentLine


def status_of(receivable: Receivable) -> str:
    if receivable.status == ReceivableStatus.CANCELLED:
        return ReceivableStatus.CANCELLED
    if receivable.paid >= receivable.amount:
        return ReceivableStatus.PAID
    return ReceivableStatus.PARTIAL if receivable.paid > 0 else ReceivableStatus.OPEN


def lock_receivables(ids: Iterable[int]) -> dict[int, Receivable]:
    require_transaction()
    rows = Receivable.objects.select_for_update(no_key=True).filter(pk__in=sorted(set(ids))).order_by("pk")
    return {row.pk: row for row in rows}


def lock_charges(event: LockedCharges) -> None:
    """Hook `scheduling.locks.charges_locked`: the receivables of the locked
    appointments and of the sales being changed, in primary-key order, before
    any step locks the account."""
    rows = Receivable.objects.filter(
        Q(appointment_id__in=event.appointments) | Q(patient_package_id__in=event.sales, kind=ReceivableKind.PACKAGE)
    )
    list(rows.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))


def lock_account(patient_id: int, organization_id: int) -> PatientAccount:
    """The patient's account row, created on first use (two first uses queue
    on the insert's unique key, then on the row lock)."""
    require_transaction()
    PatientAccount.objects.bulk_create(
        [PatientAccount(organization_id=organization_id, patient_id=patient_id)], ignore_conflicts=True
    )
    return PatientAccount.objects.select_for_update(no_key=True).get(patient_id=patient_id)


def allocate(
    payment: Payment, receivable: Receivable, amount: Decimal, *, kind: str, refund: Refund | None = None
) -> None:
    """Write one allocation and keep the receivable's `paid` and status with it."""
    if not amount:
        return
    Allocation.objects.create(
        organization_id=payment.organization_id, payment=payment, receivable=receivable, kind=kind, amount=amount,
        refund=refund,
    )  # fmt: skip
    receivable.paid += amount
    receivable.status = status_of(receivable)
    receivable.save(update_fields=["paid", "status"])


def paid_by_payment(receivable: Receivable) -> list[tuple[Payment, Decimal]]:
    """What each payment still has on the receivable, newest payment first."""
    sums = (
        Allocation.objects.filter(receivable=receivable)
        .values("payment")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
        .values_list("payment", "total")
    )
    totals = dict(sums)
    payments = Payment.objects.filter(pk__in=totals).order_by("-received_at", "-pk")
    return [(payment, totals[payment.pk]) for payment in payments]


def release(receivable: Receivable, amount: Decimal | None = None) -> Decimal:
    """Take `amount` (all that is paid, by default) off a locked receivable,
    newest payment first: money goes back to the patient's account credit, a
    package's session value goes back with the session (the package's own
    step credits it). Returns what went to the account credit."""
    left = receivable.paid if amount is None else min(amount, receivable.paid)
    to_credit = ZERO
    for payment, on_it in paid_by_payment(receivable) if left else []:
        part = min(on_it, left)
        if payment.method == Method.PACKAGE:
            _refund_in_kind(payment, receivable, part)
        else:
            allocate(payment, receivable, -part, kind=AllocationKind.RELEASE)
            to_credit += part
        left -= part
        if not left:
            break
    if to_credit:
        account = lock_account(receivable.patient_id, receivable.organization_id)
        account.credit += to_credit
        account.save(update_fields=["credit"])
    return to_credit


def _refund_in_kind(payment: Payment, receivable: Receivable, part: Decimal) -> None:
    """The session's value went back with the session to the package it was
    paid from: a refund in kind, so that a payment from a package is always
    all allocated or refunded."""
    refund = Refund.objects.create(
        organization_id=payment.organization_id, payment=payment, amount=part,
        reason=_("The session was released: its value went back to the package."),
    )  # fmt: skip
    allocate(payment, receivable, -part, kind=AllocationKind.REFUND, refund=refund)


def _follow_package_payments(receivable: Receivable, appointment: Appointment, *, deleted: bool) -> None:
    """A payment from a package stands only while the session is still paid
    from that package (a releasing status, a move to another package or an
    unpaid debit gave the session back to it)."""
    kept = appointment.patient_package_id if appointment.paid_from_package and not deleted else None
    for payment, on_it in paid_by_payment(receivable):
        if payment.method == Method.PACKAGE and payment.patient_package_id != kept:
            _refund_in_kind(payment, receivable, on_it)


def cancel(receivable: Receivable) -> None:
    if receivable.status == ReceivableStatus.CANCELLED:
        return
    release(receivable)
    receivable.status = ReceivableStatus.CANCELLED
    receivable.cancelled_at = timezone.now()
    receivable.save(update_fields=["status", "cancelled_at"])


# Sessions (hook `scheduling.events.charge_changed`)


def _charges(appointment: Appointment, package: PatientPackage | None, *, deleted: bool, releases: bool) -> bool:
    if deleted or releases:
        return False
    return package is None or package.posting == Posting.PER_PROCEDURE


def _lines(event: ChargeEvent) -> list[tuple[str, int, Decimal]]:
    if event.lines is not None:
        return [(service.name, quantity, price) for service, quantity, price in event.lines]
    rows = (
        AppointmentLine.objects.filter(appointment=event.appointment)
        .order_by("pk")
        .values_list("service__name", "quantity", "price")
    )
    return list(rows)


def _describe(lines: Sequence[tuple[str, int, Decimal]]) -> str:
    times = "\N{MULTIPLICATION SIGN}"
    parts = [name if quantity == 1 else f"{name} {times} {quantity}" for name, quantity, _price in lines]
    return ", ".join(parts)[:300] or _("Session")


def local_date(moment: dt.datetime, time_zone: str) -> dt.date:
    return timezone.localtime(moment, ZoneInfo(time_zone)).date()


def session_charge_sync(event: ChargeEvent) -> None:
    """Put the session's receivable in step with the session."""
    appointment = event.appointment
    package = event.locked.packages.get(appointment.patient_package_id) if appointment.patient_package_id else None
    charges = _charges(appointment, package, deleted=event.deleted, releases=event.status.releases)
    receivable = None
    if not event.created:
        receivable = Receivable.objects.select_for_update(no_key=True).filter(appointment_id=appointment.pk).first()
    if receivable is None and not charges:
        return
    if receivable is not None and receivable.paid:
        _follow_package_payments(receivable, appointment, deleted=event.deleted)
    if not charges:
        assert receivable is not None
        if receivable.paid and appointment.paid_from_package and not (event.deleted or event.status.releases):
            # Paid from the package it now belongs to: that payment stands.
            if receivable.patient_package_id != appointment.patient_package_id:
                receivable.patient_package_id = appointment.patient_package_id
                receivable.save(update_fields=["patient_package"])
            return
        # Released, deleted, or now covered by a package that posts its total
        # (its sale was charged): nothing is owed, and money paid on it goes
        # back to the account credit.
        cancel(receivable)
        return
    lines = _lines(event)
    amount = sum((money.line_amount(quantity, price) for _n, quantity, price in lines), ZERO)
    due = local_date(appointment.start, appointment.clinic.time_zone)
    if receivable is None:
        Receivable.objects.create(
            organization_id=appointment.organization_id, clinic_id=appointment.clinic_id,
            patient_id=appointment.patient_id, kind=ReceivableKind.SESSION, appointment=appointment,
            patient_package=package, professional_id=appointment.professional_id, description=_describe(lines),
            due_date=due, amount=amount,
        )  # fmt: skip
        return
    if receivable.status == ReceivableStatus.CANCELLED:
        # Booked again (a justified absence set back to scheduled).
        receivable.status, receivable.cancelled_at = ReceivableStatus.OPEN, None
    receivable.patient_package = package
    receivable.professional_id = appointment.professional_id
    receivable.due_date = due
    receivable.description = _describe(lines)
    if not receivable.paid:
        receivable.amount, receivable.list_amount = amount, None
    elif receivable.list_amount is None and amount != receivable.amount:
        # Repriced after a payment: the payment stands on the new price, an
        # excess goes back to the account credit.
        if amount < receivable.paid:
            release(receivable, receivable.paid - amount)
        receivable.amount = amount
    receivable.status = status_of(receivable)
    receivable.save()


# Package sales (hooks `packages.patient_packages.events`)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _sale_description(
    package: PatientPackage, installment: int | None, installments: int, *, change: bool = False
) -> str:
    # Stored, so written in the clinic's language, whoever is logged in.
    with translation.override(package.clinic.language):
        text = _("Package %(number)s · %(name)s") % {"number": package.number, "name": package.name}
        if installments > 1:
            text += " · " + _("installment %(n)s of %(count)s") % {"n": installment, "count": installments}
        if change:
            text += " · " + _("change of its value")
    return text[:300]


def package_sale_post(event: PackageEvent) -> None:
    """A total-posting package owes its price when it is linked, in its
    installments (monthly from the link date), adding up exactly (B4)."""
    package = event.package
    if package.posting != Posting.TOTAL or not package.amount_total:
        return
    count = package.installments
    amounts = money.split(package.amount_total, count, field="installments")
    first = local_date(package.created_at or timezone.now(), package.clinic.time_zone)
    Receivable.objects.bulk_create(
        [
            Receivable(
                organization_id=package.organization_id,
                clinic_id=package.clinic_id,
                patient_id=package.patient_id,
                kind=ReceivableKind.PACKAGE,
                patient_package=package,
                installment=n if count > 1 else None,
                installments=count if count > 1 else None,
                description=_sale_description(package, n, count),
                due_date=_add_months(first, n - 1),
                amount=amount,
            )
            for n, amount in enumerate(amounts, start=1)
        ]
    )


def _sale_receivables(package: PatientPackage) -> dict[int, Receivable]:
    ids = Receivable.objects.filter(patient_package=package, kind=ReceivableKind.PACKAGE).values_list("pk", flat=True)
    return lock_receivables(ids)


def package_sale_change(event: PackageEvent) -> None:
    """The package's total changed (a manual change, a monthly renewal): a
    rise is charged as a new receivable due today; a cut lowers what is
    still open, last installment first, and only then gives back what was
    paid (to the account credit)."""
    package, change = event.package, event.amount_change
    if package.posting != Posting.TOTAL or not change:
        return
    today = local_date(timezone.now(), package.clinic.time_zone)
    if change > 0:
        Receivable.objects.create(
            organization_id=package.organization_id, clinic_id=package.clinic_id, patient_id=package.patient_id,
            kind=ReceivableKind.PACKAGE, patient_package=package, due_date=today, amount=change,
            description=_sale_description(package, None, 1, change=True),
        )  # fmt: skip
        return
    cut = -change
    live = [r for r in _sale_receivables(package).values() if r.status != ReceivableStatus.CANCELLED]
    newest_first = sorted(live, key=lambda r: (r.due_date, r.pk), reverse=True)
    # What is still open goes first, last installment first; only then is
    # what was paid given back (to the account credit).
    for receivable in newest_first:
        lower = min(receivable.amount - receivable.paid, cut)
        receivable.amount -= lower
        cut -= lower
    for receivable in newest_first:
        if cut and receivable.paid:
            part = min(receivable.paid, cut)
            release(receivable, part)
            receivable.amount -= part
            cut -= part
    for receivable in newest_first:
        if receivable.amount:
            receivable.status = status_of(receivable)
        else:
            receivable.status, receivable.cancelled_at = ReceivableStatus.CANCELLED, timezone.now()
        receivable.save(update_fields=["amount", "status", "cancelled_at"])


def package_sale_cancel(event: PackageEvent) -> None:
    """A deleted package owes nothing: its sale's receivables are cancelled,
    what was paid on them goes to the account credit."""
    for receivable in _sale_receivables(event.package).values():
        cancel(receivable)


def account_credit(patient_id: int) -> Decimal:
    account = PatientAccount.objects.filter(patient_id=patient_id).values_list("credit", flat=True).first()
    return account if account is not None else ZERO
