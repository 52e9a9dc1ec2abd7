"""Billing's entry points (B2, B3, K11): take a payment, pay sessions from a
package, refund. One durable transaction each (`clinic.transactions`),
locking in the project's order: appointments, packages, session units
(`scheduling.locks`), then payments, receivables in primary-key order, the
patient's account and last the numbering counter. Every check that decides
(what is open, the account credit, the package's free sessions, what is
left to refund) runs after those locks.

Payments and refunds are never changed: a correction is a refund, a new
payment, or an allocation taking a part back (`billing.receivables`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.errors import NothingToRefund, PackageSaleUsed, PriceMismatch
from billing.models import (
    MONEY_METHODS,
    ZERO,
    Allocation,
    AllocationKind,
    Method,
    PayerKind,
    Payment,
    Receivable,
    ReceivableKind,
    ReceivableStatus,
    Refund,
)
from billing.receivables import allocate, lock_account, lock_receivables
from clinic import money
from clinic.errors import NotFound, ValidationFailed
from clinic.models import Clinic, User
from clinic.services import sequence_next
from clinic.transactions import Retry, entry_point
from packages.catalog.models import Posting
from packages.patient_packages.errors import PackageExhausted
from packages.patient_packages.ledger import require_active
from packages.patient_packages.locks import lock_packages
from packages.patient_packages.models import PatientPackage, UsageState
from patients.models import Patient
from scheduling import services as scheduling
from scheduling.locks import lock

_MONEY = DecimalField(max_digits=14, decimal_places=2)


def _sum_of(model: type[Allocation] | type[Refund]) -> Coalesce:
    rows = model.objects.filter(payment=OuterRef("pk")).order_by().values("payment").annotate(s=Sum("amount"))
    return Coalesce(Subquery(rows.values("s")), Value(ZERO), output_field=_MONEY)


def with_rest(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Payments annotated with `allocated`, `refunded` and `rest` (what is
    neither allocated nor refunded: the account credit it holds)."""
    annotated = payments.annotate(allocated=_sum_of(Allocation), refunded=_sum_of(Refund))
    return annotated.annotate(rest=F("amount") - F("allocated") - F("refunded"))


def _credit_sources(patient_id: int) -> list[tuple[Payment, Decimal]]:
    """The patient's money payments that hold credit, oldest first. Read
    under the account's lock, which every spender of credit takes."""
    rows = with_rest(Payment.objects.filter(patient_id=patient_id).exclude(method=Method.PACKAGE))
    rows = rows.filter(rest__gt=0).order_by("received_at", "pk")  # type: ignore[misc]
    return [(payment, payment.rest) for payment in rows]  # type: ignore[attr-defined]


def _number(organization_id: int) -> int:
    return sequence_next(organization_id=organization_id, name="payment")


def _payer_name(patient: Patient, payer: str) -> str:
    if payer == PayerKind.GUARDIAN:
        if not patient.guardian_name:
            raise ValidationFailed(fields={"payer": [_("This patient has no guardian on file.")]})
        return patient.guardian_name
    return patient.full_name


def _unique(ids: Sequence[int], *, field: str = "receivables") -> list[int]:
    unique = list(dict.fromkeys(ids))
    if len(unique) != len(ids):
        raise ValidationFailed(fields={field: [_("A session is listed twice.")]})
    return unique


def _theirs(rows: dict[int, Receivable], ids: Sequence[int], patient_id: int) -> list[Receivable]:
    if any(pk not in rows or rows[pk].patient_id != patient_id for pk in ids):
        raise ValidationFailed(fields={"receivables": [_("A chosen charge is not one of this patient's.")]})
    return [rows[pk] for pk in ids]


def _describe(receivable: Receivable) -> str:
    return f"{receivable.description} ({formats.date_format(receivable.due_date, 'SHORT_DATE_FORMAT')})"


def _open_ones(receivables: Sequence[Receivable]) -> None:
    closed = [
        _("%(what)s is already paid.") % {"what": _describe(r)}
        if r.status == ReceivableStatus.PAID
        else _("%(what)s was cancelled.") % {"what": _describe(r)}
        for r in receivables
        if r.status in (ReceivableStatus.PAID, ReceivableStatus.CANCELLED)
    ]
    if closed:
        raise ValidationFailed(fields={"receivables": closed})


def _amount_needed() -> str:
    return _("Enter the amount received.")


def payment_take_check(*, data: Mapping[str, Any], credit: Decimal, receivables: Sequence[int]) -> None:
    """`payment_take`'s rules on what the payment form parsed, writing
    nothing: an amount of zero pays only from the account credit, used for
    some receivables. (Taking the payment checks again under the account's
    lock: the credit may have been spent since.)"""
    if data.get("method") not in MONEY_METHODS or data.get("amount") is None:
        return
    amount = money.money(data["amount"])
    if not amount and not (data.get("use_credit") and credit > 0 and receivables):
        raise ValidationFailed(fields={"amount": [_amount_needed()]})


@entry_point
def payment_take(
    *,
    clinic: Clinic,
    patient: Patient,
    method: str,
    amount: Decimal | str,
    actor: User | None,
    receivables: Sequence[int] = (),
    payer: str = PayerKind.PATIENT,
    use_credit: bool = False,
    received_at: dt.datetime | None = None,
    note: str = "",
) -> Payment:
    """Take money (cash, card, Pix, transfer) and spread it over the listed
    receivables in order; what is left becomes the patient's account credit.
    With `use_credit`, the account credit pays first."""
    errors: dict[str, list[str]] = {}
    if method not in MONEY_METHODS:
        errors["method"] = [_("Choose cash, card, Pix or bank transfer.")]
    try:
        amount = money.money(amount)
    except ValidationFailed as error:
        errors |= error.fields
    if payer not in PayerKind.values:
        errors["payer"] = [_("Choose who pays.")]
    try:
        ids = _unique(receivables)
    except ValidationFailed as error:
        errors |= error.fields
    if errors:
        raise ValidationFailed(fields=errors)
    assert isinstance(amount, Decimal)
    payer_name = _payer_name(patient, payer)

    rows = _theirs(lock_receivables(ids), ids, patient.pk)
    _open_ones(rows)
    account = lock_account(patient.pk, patient.organization_id)
    sources = _credit_sources(patient.pk) if use_credit and account.credit > 0 else []
    if not amount and not (sources and rows):
        raise ValidationFailed(fields={"amount": [_amount_needed()]})
    payment = Payment.objects.create(
        organization_id=patient.organization_id, number=_number(patient.organization_id), clinic=clinic,
        patient=patient, method=method, amount=amount, payer=payer, payer_name=payer_name, received_by=actor,
        note=note.strip()[:300], **({"received_at": received_at} if received_at else {}),
    )  # fmt: skip
    new_money, spent = amount, ZERO
    for receivable in rows:
        need = receivable.open
        while need and sources:
            source, rest = sources[0]
            part = min(need, rest)
            allocate(source, receivable, part, kind=AllocationKind.CREDIT)
            spent, need = spent + part, need - part
            if part == rest:
                sources.pop(0)
            else:
                sources[0] = (source, rest - part)
        part = min(need, new_money)
        allocate(payment, receivable, part, kind=AllocationKind.PAYMENT)
        new_money -= part
    if new_money or spent:
        account.credit += new_money - spent
        account.save(update_fields=["credit"])
    return payment


def session_values(package: PatientPackage, count: int) -> list[Decimal]:
    """What each of the next `count` debited sessions of the package is worth
    (the ledger's rule, `money.next_session_value`)."""
    values, open_amount, remaining = [], package.amount_open, package.sessions_remaining
    for _n in range(count):
        value = money.next_session_value(open_amount, remaining)
        values.append(value)
        open_amount, remaining = open_amount - value, remaining - 1
    return values


def _price_mismatch(pairs: Sequence[tuple[Receivable, Decimal]], package: PatientPackage) -> PriceMismatch:
    differing = [(r, value) for r, value in pairs if r.amount != value]
    return PriceMismatch(
        fields={
            "receivables": [str(r.pk) for r, _v in differing],
            "prices": [str(r.amount) for r, _v in differing],
            "values": [str(value) for _r, value in differing],
            "average": [str(package.average_price)],
        }
    )


@entry_point
def payment_from_package(
    *,
    package: PatientPackage,
    receivables: Sequence[int],
    actor: User | None,
    confirm_price: bool = False,
    patient: Patient | None = None,
    note: str = "",
) -> Payment:
    """Pay sessions from a package that posts its total (B2, K11): each
    receivable's session is linked to the package and debited, and the
    receivable is paid with the session's value in the package. A price that
    differs from that value needs `confirm_price`, which sets the session's
    value to the package's; more sessions than the package has free are
    refused (`package_exhausted`)."""
    ids = _unique(receivables)
    if not ids:
        raise ValidationFailed(fields={"receivables": [_("Choose the sessions to pay.")]})
    appointment_of = dict(Receivable.objects.filter(pk__in=ids).values_list("pk", "appointment_id"))
    locked = lock(appointments=[a for a in appointment_of.values() if a], packages=[package.pk])
    held = lock_receivables(ids)
    if {pk: r.appointment_id for pk, r in held.items()} != appointment_of:
        raise Retry()  # an appointment was deleted meanwhile: lock again without it
    target = locked.packages.get(package.pk)
    if target is None or target.deleted_at is not None:
        raise NotFound(_("Package not found."))
    if patient is not None and patient.pk != target.patient_id:
        raise ValidationFailed(fields={"patient_package": [_("This package is another patient's.")]})
    rows = _theirs(held, ids, target.patient_id)
    errors = [
        _("%(what)s is a package sale: pay it with cash, card, Pix or transfer.") % {"what": _describe(r)}
        for r in rows
        if r.kind != ReceivableKind.SESSION or r.appointment_id is None
    ]
    errors += [
        _("%(what)s is partly paid: pay the rest with cash, card, Pix or transfer.") % {"what": _describe(r)}
        for r in rows
        if r.paid
    ]
    if errors:
        raise ValidationFailed(fields={"receivables": errors})
    _open_ones(rows)
    if target.posting != Posting.TOTAL:
        raise ValidationFailed(
            fields={
                "patient_package": [_("This package charges each session: pay them with cash, card, Pix or transfer.")]
            }
        )
    require_active(target)
    debited = [
        r for r in rows
        if (usage := locked.usages.get(r.appointment_id)) is not None  # type: ignore[arg-type]
        and usage.package_id == target.pk and usage.state == UsageState.DEBITED
    ]  # fmt: skip
    if debited:
        # Attended on this package already: its session was used and is
        # covered by the package; nothing is left to pay from it.
        raise ValidationFailed(
            fields={
                "receivables": [
                    _("%(what)s was already debited from this package.") % {"what": _describe(r)} for r in debited
                ]
            }
        )
    new = [r for r in rows if getattr(locked.usages.get(r.appointment_id), "package_id", None) != target.pk]  # type: ignore[arg-type]
    if len(new) > target.sessions_available or len(rows) > target.sessions_remaining:
        raise PackageExhausted(
            ngettext(
                "This package has %(free)s session free and %(count)s were chosen: "
                "adjust the package's sessions before paying more.",
                "This package has %(free)s sessions free and %(count)s were chosen: "
                "adjust the package's sessions before paying more.",
                target.sessions_available,
            )
            % {"free": target.sessions_available, "count": len(new)},
            fields={"receivables": [_("More sessions than the package holds.")]},
        )
    pairs = list(zip(rows, session_values(target, len(rows)), strict=True))
    if not confirm_price and any(r.amount != value for r, value in pairs):
        raise _price_mismatch(pairs, target)
    payment = Payment.objects.create(
        organization_id=target.organization_id, number=_number(target.organization_id), clinic_id=target.clinic_id,
        patient_id=target.patient_id, method=Method.PACKAGE, amount=sum((v for _r, v in pairs), ZERO),
        payer=PayerKind.PATIENT, payer_name=target.patient.full_name, patient_package=target, received_by=actor,
        note=note.strip()[:300],
    )  # fmt: skip
    for receivable, value in pairs:
        if receivable.amount != value:
            receivable.list_amount, receivable.amount = receivable.amount, value
            receivable.save(update_fields=["list_amount", "amount"])
        # Paid before the session is debited: the session's receivable then
        # stands when its appointment joins the package (`billing.receivables`).
        allocate(payment, receivable, value, kind=AllocationKind.PAYMENT)
        appointment = locked.appointment(receivable.appointment_id)  # type: ignore[arg-type]
        scheduling.pay_from_package(appointment, target, locked=locked, actor=actor)
        taken = locked.usages[appointment.pk].amount
        assert taken == value, f"the package debited {taken}, the payment says {value}"
    return payment


def net_by_receivable(payment: Payment) -> dict[int, Decimal]:
    """What the payment still has on each receivable."""
    rows = (
        Allocation.objects.filter(payment=payment)
        .values("receivable")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
        .values_list("receivable", "total")
    )
    return dict(rows)


def payment_rest(payment: Payment) -> Decimal:
    """What of a payment is neither allocated nor refunded (its account credit)."""
    rest: Decimal = with_rest(Payment.objects.filter(pk=payment.pk)).values_list("rest", flat=True).get()  # type: ignore[misc]
    return rest


def _sale_refundable(package: PatientPackage) -> Decimal:
    """What of a package's sale can be given back: what was paid on it less
    the value of the sessions used (its open value bounds it)."""
    paid = Receivable.objects.filter(patient_package=package, kind=ReceivableKind.PACKAGE).aggregate(
        paid=Coalesce(Sum("paid"), Value(ZERO), output_field=_MONEY)
    )["paid"]
    return max(ZERO, paid - (package.amount_total - package.amount_open))


@entry_point
def payment_refund(
    *,
    payment: Payment,
    actor: User | None,
    amount: Decimal | str | None = None,
    receivables: Sequence[int] | None = None,
    reason: str = "",
) -> Refund:
    """Give back part of a payment, by amount or by the receivables it paid
    (B3). A money payment's refund comes first from what it left as account
    credit, then from the receivables it paid, newest first; a package sale
    gives back only what was not used. Paying sessions from a package is
    undone by naming the sessions: each is removed from the package and
    credited back to it, and its receivable is open again."""
    if (amount is None) == (receivables is None):
        raise ValidationFailed(fields={"amount": [_("Give the amount to refund or the sessions, not both.")]})
    if payment.method == Method.PACKAGE:
        if receivables is None:
            raise ValidationFailed(fields={"receivables": [_("Choose the sessions to remove from the package.")]})
        return _remove_package_sessions(payment, _unique(receivables), actor=actor, reason=reason)
    ids = _unique(receivables) if receivables is not None else None
    wanted = money.money(amount) if amount is not None else None
    if wanted is not None and not wanted:
        raise ValidationFailed(fields={"amount": [_("Enter the amount to refund.")]})

    on_receivables = Allocation.objects.filter(payment=payment).values_list("receivable", flat=True).distinct()
    sale_packages = set(
        Receivable.objects.filter(pk__in=on_receivables, kind=ReceivableKind.PACKAGE).values_list(
            "patient_package", flat=True
        )
    )
    packages = lock_packages(sale_packages)
    Payment.objects.select_for_update(no_key=True).filter(pk=payment.pk).values_list("pk", flat=True).first()
    held = lock_receivables(ids if ids is not None else net_by_receivable(payment))
    account = lock_account(payment.patient_id, payment.organization_id)
    # Decided only now: what the payment has on each receivable changes only
    # under the receivable's lock (a cancellation releases it), and its rest
    # only under the account's (credit spent elsewhere).
    net = net_by_receivable(payment)
    if ids is None and not set(net) <= set(held):
        raise Retry()  # the payment's credit paid another receivable meanwhile: lock that one too
    sold = {r.patient_package_id for pk, r in held.items() if r.kind == ReceivableKind.PACKAGE and pk in net}
    if sold - set(packages):
        raise Retry()  # a sale this payment paid was reached by its credit meanwhile: lock its package too
    if ids is not None:
        missing = [pk for pk in ids if pk not in net]
        if missing:
            raise ValidationFailed(fields={"receivables": [_("A chosen charge was not paid by this payment.")]})
    rest = payment_rest(payment)

    # What to take back from each receivable (newest first), and from the credit.
    if ids is not None:
        plan = [(held[pk], net[pk]) for pk in ids]
        from_rest = ZERO
    else:
        assert wanted is not None
        refundable = rest + sum(net.values(), ZERO)
        if wanted > refundable:
            most = _("At most %(amount)s of this payment can be refunded.") % {
                "amount": formats.number_format(refundable, 2)
            }
            error = NothingToRefund(most if refundable else None)
            raise NothingToRefund(error.detail, fields={"amount": [error.detail]})
        from_rest = min(rest, wanted)
        left, plan = wanted - from_rest, []
        for receivable in sorted(held.values(), key=lambda r: (r.due_date, r.pk), reverse=True):
            if not left:
                break
            part = min(net.get(receivable.pk, ZERO), left)
            if part:
                plan.append((receivable, part))
                left -= part
    sales: dict[int, Decimal] = {}
    for receivable, part in plan:
        if receivable.kind == ReceivableKind.PACKAGE:
            package_id = receivable.patient_package_id
            assert package_id is not None  # a sale always names its package
            sales[package_id] = sales.get(package_id, ZERO) + part
    for package_id, part in sales.items():
        allowed = _sale_refundable(packages[package_id])
        if part > allowed:
            message = _(
                "Only what was not used of a package can be refunded: at most %(amount)s of package %(number)s."
            ) % {"amount": formats.number_format(allowed, 2), "number": packages[package_id].number}
            raise PackageSaleUsed(message, fields={"amount": [message]})
    total = from_rest + sum((part for _r, part in plan), ZERO)
    if not total:
        raise NothingToRefund()
    refund = Refund.objects.create(
        organization_id=payment.organization_id, payment=payment, amount=total, reason=reason.strip()[:300],
        created_by=actor,
    )  # fmt: skip
    for receivable, part in plan:
        allocate(payment, receivable, -part, kind=AllocationKind.REFUND, refund=refund)
    if from_rest:
        account.credit -= from_rest
        account.save(update_fields=["credit"])
    return refund


def _remove_package_sessions(payment: Payment, ids: list[int], *, actor: User | None, reason: str) -> Refund:
    if not ids:
        raise ValidationFailed(fields={"receivables": [_("Choose the sessions to remove from the package.")]})
    appointment_of = dict(Receivable.objects.filter(pk__in=ids).values_list("pk", "appointment_id"))
    locked = lock(appointments=[a for a in appointment_of.values() if a], packages=[payment.patient_package_id])
    Payment.objects.select_for_update(no_key=True).filter(pk=payment.pk).values_list("pk", flat=True).first()
    held = lock_receivables(ids)
    if {pk: r.appointment_id for pk, r in held.items()} != appointment_of:
        raise Retry()
    net = net_by_receivable(payment)
    missing = [pk for pk in ids if pk not in net or pk not in held]
    if missing:
        raise ValidationFailed(fields={"receivables": [_("A chosen charge was not paid by this payment.")]})
    refund = Refund.objects.create(
        organization_id=payment.organization_id, payment=payment, amount=sum((net[pk] for pk in ids), ZERO),
        reason=reason.strip()[:300], created_by=actor,
    )  # fmt: skip
    for pk in ids:
        receivable = held[pk]
        allocate(payment, receivable, -net[pk], kind=AllocationKind.REFUND, refund=refund)
        if receivable.appointment_id is None:
            continue
        appointment = locked.appointment(receivable.appointment_id)
        if appointment.patient_package_id == payment.patient_package_id:
            # Out of the package: its session is credited back (a finished
            # package reopens) and the receivable owes its own price again.
            scheduling.update(appointment, locked=locked, actor=actor, patient_package=None)
    return refund
