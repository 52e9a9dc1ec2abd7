"""The one write path of patient packages and their ledger (K1, K5-K12).

Every function here opens a transaction, locks the package row
(`select_for_update`) before deciding anything, changes the cached balances
with an F() update and appends the ledger entry that explains the change, in
the same transaction. Scheduling, billing, the API, pages, Celery tasks and
commands all call these functions; nothing else writes balances.

The consumption functions are idempotent per appointment: debiting twice,
crediting twice or releasing twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.errors import ValidationFailed
from clinic.models import Clinic, Room, User
from clinic.normalize import phone_e164
from clinic.services import sequence_next
from packages import money
from packages.errors import AppointmentHasOtherPackage, PackageDebited, PackageExhausted, PackageInactive
from packages.models import (
    EntryKind,
    LedgerEntry,
    PackageStatus,
    PackageTemplate,
    PackageUsage,
    PatientPackage,
    Renewal,
    UsageState,
)
from packages.selectors import template_terms_snapshot
from patients.models import Patient
from scheduling.models import Appointment

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Delta:
    total: int = 0
    booked: int = 0
    used: int = 0
    amount_total: Decimal = ZERO
    amount_open: Decimal = ZERO


def _lock(package: PatientPackage) -> PatientPackage:
    """The package row, locked until the transaction ends.

    The race this prevents: two requests debit the last session of the same
    package at once; each reads "1 available" and both would debit. With the
    lock the second one waits, then reads "0 available" and is refused.
    """
    return PatientPackage.objects.select_for_update().get(pk=package.pk)


def _automatic_status(current: str, remaining: int) -> str:
    """Finished when nothing remains, active again when a session comes back (K5).
    An inactive package stays inactive: only a person reactivates it."""
    if current == PackageStatus.ACTIVE and remaining == 0:
        return PackageStatus.FINISHED
    if current == PackageStatus.FINISHED and remaining > 0:
        return PackageStatus.ACTIVE
    return current


def _append(
    package: PatientPackage,
    kind: EntryKind,
    delta: Delta,
    *,
    actor: User | None,
    appointment: Appointment | None = None,
    status: str | None = None,
    period: dt.date | None = None,
    details: dict[str, Any] | None = None,
    note: str = "",
) -> LedgerEntry:
    """Apply `delta` to the locked `package` and append the entry that explains it."""
    total = package.sessions_total + delta.total
    booked = package.sessions_booked + delta.booked
    used = package.sessions_used + delta.used
    amount_total = package.amount_total + delta.amount_total
    amount_open = package.amount_open + delta.amount_open
    new_status = _automatic_status(status or package.status, total - used)
    # The database's check constraints refuse these too; callers check first
    # and raise a clear error, so reaching this is a bug.
    assert min(total - used - booked, booked, used) >= 0, "sessions would go below zero"
    assert amount_open >= 0, "open value would go below zero"
    assert amount_open <= amount_total, "open value above the total"

    PatientPackage.objects.filter(pk=package.pk).update(
        sessions_total=F("sessions_total") + delta.total,
        sessions_booked=F("sessions_booked") + delta.booked,
        sessions_used=F("sessions_used") + delta.used,
        amount_total=F("amount_total") + delta.amount_total,
        amount_open=F("amount_open") + delta.amount_open,
        status=new_status,
    )
    package.sessions_total, package.sessions_booked, package.sessions_used = total, booked, used
    package.amount_total, package.amount_open, package.status = amount_total, amount_open, new_status
    return _record(
        package, kind, delta, actor=actor, appointment=appointment, period=period, details=details, note=note
    )


def _record(
    package: PatientPackage,
    kind: EntryKind,
    delta: Delta,
    *,
    actor: User | None,
    appointment: Appointment | None = None,
    period: dt.date | None = None,
    details: dict[str, Any] | None = None,
    note: str = "",
) -> LedgerEntry:
    """Append the entry for a change already made to the locked `package`."""
    last = LedgerEntry.objects.filter(package=package).aggregate(last=Max("seq"))["last"] or 0
    return LedgerEntry.objects.create(
        organization_id=package.organization_id,
        package=package,
        seq=last + 1,
        kind=kind,
        appointment=appointment,
        actor=actor,
        status=package.status,
        d_sessions_total=delta.total,
        d_sessions_booked=delta.booked,
        d_sessions_used=delta.used,
        d_amount_total=delta.amount_total,
        d_amount_open=delta.amount_open,
        sessions_total=package.sessions_total,
        sessions_booked=package.sessions_booked,
        sessions_used=package.sessions_used,
        amount_total=package.amount_total,
        amount_open=package.amount_open,
        average_price=money.average(package.amount_total, package.sessions_total),
        period=period,
        details=details or {},
        note=note,
    )


def _session_details(appointment: Appointment) -> dict[str, Any]:
    return {"session": appointment.start.astimezone(dt.UTC).isoformat()}


def _require_active(package: PatientPackage) -> None:
    if package.status != PackageStatus.ACTIVE or package.deleted_at is not None:
        raise PackageInactive()


def _live_usage(appointment: Appointment) -> PackageUsage | None:
    return (
        PackageUsage.objects.select_for_update()
        .filter(appointment=appointment, state__in=[UsageState.RESERVED, UsageState.DEBITED])
        .first()
    )


# Linking


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_number(package_organization_id: int) -> str:
    year = timezone.localdate().year
    value = sequence_next(organization_id=package_organization_id, name=f"patient_package:{year}")
    return f"{year}-{value:05d}"


@transaction.atomic
def package_link(
    *,
    patient: Patient,
    clinic: Clinic,
    actor: User | None,
    template: PackageTemplate | None = None,
    sessions: int | None = None,
    total_price: Decimal | str | None = None,
    paid_at: dt.date | None = None,
    insurer: str = "",
    authorization: str = "",
    room: Room | None = None,
    mobile: str | None = None,
    reminder_hours: int | None = None,
    notes: str = "",
) -> PatientPackage:
    """Link a package to a patient, from a template (its terms are copied) or
    directly with a number of sessions and a total paid (K1, K3)."""
    errors: dict[str, list[str]] = {}
    terms: dict[str, Any] = {}
    if template is not None:
        terms = template_terms_snapshot(template, clinic)
        sessions = terms["sessions"] if sessions is None else sessions
        total_price = terms["price"] if total_price is None else total_price
    else:
        if sessions is None:
            errors["sessions"] = [_("Enter the number of sessions.")]
        if total_price is None:
            errors["total_price"] = [_("Enter the total paid.")]
    if errors:
        raise ValidationFailed(fields=errors)
    assert sessions is not None
    assert total_price is not None
    price = money.money(total_price, field="total_price")
    money.price_per_session(price, sessions, field="sessions")  # refuses zero or negative sessions
    if room is not None and room.clinic_id != clinic.pk:
        raise ValidationFailed(fields={"room": [_("Choose a room of this clinic.")]})
    if reminder_hours is not None and not 0 < reminder_hours <= 24 * 14:
        raise ValidationFailed(fields={"reminder_hours": [_("Choose between 1 hour and 14 days.")]})
    mobile = phone_e164(patient.mobile if mobile is None else mobile, region=clinic.country, field="mobile")

    renewal = terms.get("renewal", Renewal.NONE)
    terms = {**terms, "cycle_sessions": sessions, "cycle_price": str(price)}
    package = PatientPackage.objects.create(
        organization_id=patient.organization_id,
        number=_next_number(patient.organization_id),
        clinic=clinic,
        patient=patient,
        template=template,
        name=terms.get("name") or _("Package of %(count)s sessions") % {"count": sessions},
        terms=terms,
        posting=terms.get("posting", "total"),
        renewal=renewal,
        validity_days=terms.get("validity_days"),
        commission_kind=terms.get("commission_kind", "none"),
        commission_value=Decimal(terms.get("commission_value", "0")),
        paid_at=paid_at,
        insurer=insurer.strip(),
        authorization=authorization.strip(),
        room=room,
        mobile=mobile,
        reminder_hours=reminder_hours,
        notes=notes.strip(),
        sessions_total=sessions,
        amount_total=price,
        amount_open=price,
        renewed_through=_month_start(timezone.localdate()) if renewal == Renewal.MONTHLY else None,
        created_by=actor,
    )
    # The "created" entry carries the whole initial balance as its delta, so
    # the ledger alone adds up to the balances.
    _record(
        package,
        EntryKind.CREATED,
        Delta(total=sessions, amount_total=price, amount_open=price),
        actor=actor,
        details={"template": template.pk if template else None},
    )
    return package


# Consumption (K8): reserve, release, debit, credit.


@transaction.atomic
def package_reserve(*, package: PatientPackage, appointment: Appointment, actor: User | None) -> PackageUsage:
    """The appointment takes one unit of the package (booking)."""
    package = _lock(package)
    live = _live_usage(appointment)
    if live is not None:
        if live.package_id != package.pk:
            raise AppointmentHasOtherPackage()
        return live
    _require_active(package)
    if package.sessions_available < 1:
        raise PackageExhausted()
    usage = PackageUsage.objects.create(
        organization_id=package.organization_id, package=package, appointment=appointment, state=UsageState.RESERVED
    )
    _append(
        package, EntryKind.RESERVE, Delta(booked=1), actor=actor, appointment=appointment,
        details=_session_details(appointment),
    )  # fmt: skip
    return usage


@transaction.atomic
def package_debit(*, package: PatientPackage, appointment: Appointment, actor: User | None) -> PackageUsage:
    """One session used: the appointment was attended or paid from the package."""
    package = _lock(package)
    usage = _live_usage(appointment)
    if usage is not None and usage.package_id != package.pk:
        raise AppointmentHasOtherPackage()
    if usage is not None and usage.state == UsageState.DEBITED:
        return usage
    _require_active(package)
    if usage is None and package.sessions_available < 1:
        raise PackageExhausted()
    value = money.next_session_value(package.amount_open, package.sessions_remaining)
    if usage is None:
        usage = PackageUsage(organization_id=package.organization_id, package=package, appointment=appointment)
        booked = 0
    else:
        booked = -1
    usage.state, usage.amount = UsageState.DEBITED, value
    usage.save()
    _append(
        package,
        EntryKind.DEBIT,
        Delta(booked=booked, used=1, amount_open=-value),
        actor=actor,
        appointment=appointment,
        details={**_session_details(appointment), "value": str(value)},
    )
    return usage


@transaction.atomic
def package_credit(*, package: PatientPackage, appointment: Appointment, actor: User | None) -> PackageUsage | None:
    """Give a debited session back; the appointment keeps its booking. A
    finished package reopens (K5, K8)."""
    package = _lock(package)
    usage = _live_usage(appointment)
    if usage is None or usage.state != UsageState.DEBITED:
        return usage
    if usage.package_id != package.pk:
        raise AppointmentHasOtherPackage()
    value = usage.amount
    usage.state, usage.amount = UsageState.RESERVED, ZERO
    usage.save()
    _append(
        package,
        EntryKind.CREDIT,
        Delta(booked=1, used=-1, amount_open=value),
        actor=actor,
        appointment=appointment,
        details={**_session_details(appointment), "value": str(value)},
    )
    return usage


@transaction.atomic
def package_release(*, appointment: Appointment, actor: User | None) -> PackageUsage | None:
    """Free the appointment's unit (deleted, cancelled, or a releasing status);
    a debited session is credited back first."""
    usage = _live_usage(appointment)
    if usage is None:
        return None
    package = _lock(usage.package)
    if usage.state == UsageState.DEBITED:
        package_credit(package=package, appointment=appointment, actor=actor)
        usage.refresh_from_db()
        package = _lock(package)  # the credit changed the balances: read them again
    usage.state = UsageState.RELEASED
    usage.save()
    _append(
        package, EntryKind.RELEASE, Delta(booked=-1), actor=actor, appointment=appointment,
        details=_session_details(appointment),
    )  # fmt: skip
    return usage


# Manual changes (K5, K7), renewal (K6), deletion (K4).

_CHANGEABLE = ("sessions_total", "amount_total", "paid_at", "status", "notes")


@transaction.atomic
def package_change(*, package: PatientPackage, actor: User | None, **changes: Any) -> PatientPackage:
    """An exceptional change of a package's values, recorded with what changed
    from what to what; balances and the average value follow (K7)."""
    unknown = set(changes) - set(_CHANGEABLE)
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    package = _lock(package)
    errors: dict[str, list[str]] = {}
    diff: list[dict[str, Any]] = []
    delta = Delta()

    sessions = changes.get("sessions_total", package.sessions_total)
    if sessions != package.sessions_total:
        floor = package.sessions_used + package.sessions_booked
        if not isinstance(sessions, int) or sessions < max(floor, 1):
            errors["sessions_total"] = [
                _(
                    "This package has %(used)s sessions attended and %(booked)s booked: "
                    "it cannot have fewer than %(floor)s sessions."
                )
                % {"used": package.sessions_used, "booked": package.sessions_booked, "floor": max(floor, 1)}
            ]
        else:
            diff.append({"field": "sessions_total", "from": package.sessions_total, "to": sessions})
            delta = Delta(total=sessions - package.sessions_total)

    if "amount_total" in changes:
        amount = money.money(changes["amount_total"], field="amount_total")
        debited = package.amount_total - package.amount_open
        if amount < debited:
            errors["amount_total"] = [
                _("%(debited)s was already debited from this package: the total cannot be lower.")
                % {"debited": debited}
            ]
        elif amount != package.amount_total:
            diff.append({"field": "amount_total", "from": str(package.amount_total), "to": str(amount)})
            change = amount - package.amount_total
            delta = Delta(total=delta.total, amount_total=change, amount_open=change)

    status = changes.get("status", package.status)
    if status != package.status:
        if status not in (PackageStatus.ACTIVE, PackageStatus.INACTIVE):
            errors["status"] = [_("A package is finished automatically when nothing remains.")]
        else:
            diff.append({"field": "status", "from": package.status, "to": status})
    if errors:
        raise ValidationFailed(fields=errors)

    for name in ("paid_at", "notes"):
        if name in changes and changes[name] != getattr(package, name):
            old, new = getattr(package, name), changes[name]
            diff.append({"field": name, "from": str(old or ""), "to": str(new or "")})
            setattr(package, name, new)
    if not diff:
        return package
    package.save(update_fields=["paid_at", "notes"])  # recorded by django-simple-history too
    _append(
        package, EntryKind.MANUAL_CHANGE, delta, actor=actor, status=status, details={"changes": diff},
    )  # fmt: skip
    return package


def _add_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@transaction.atomic
def package_renew(*, package: PatientPackage, actor: User | None, period: dt.date | None = None) -> LedgerEntry | None:
    """Start a new monthly cycle: the cycle's sessions and value are added (K6).

    Without `period`, the next month not yet renewed ("renew now"). A month
    renews once: asking again returns None, and the database's unique rule on
    (package, renewal month) backs that up.
    """
    package = _lock(package)
    if package.renewal != Renewal.MONTHLY:
        raise ValidationFailed(_("This package does not renew."), code="package_not_renewable")
    if package.status == PackageStatus.INACTIVE or package.deleted_at is not None:
        raise PackageInactive()
    period = _month_start(period) if period else _add_month(package.renewed_through or timezone.localdate())
    if package.renewed_through is not None and period <= package.renewed_through:
        return None
    sessions = int(package.terms.get("cycle_sessions") or package.terms.get("sessions") or 0)
    price = Decimal(package.terms.get("cycle_price") or package.terms.get("price") or "0")
    entry = _append(
        package,
        EntryKind.RENEWAL,
        Delta(total=sessions, amount_total=price, amount_open=price),
        actor=actor,
        period=period,
        details={"period": period.isoformat()},
    )
    PatientPackage.objects.filter(pk=package.pk).update(renewed_through=period)
    package.renewed_through = period
    return entry


@transaction.atomic
def package_delete(*, package: PatientPackage, actor: User | None) -> PatientPackage:
    """Remove a package that was never debited (K4); its bookings are released
    and its ledger stays. A package with debits can only be deactivated."""
    package = _lock(package)
    if LedgerEntry.objects.filter(package=package, kind=EntryKind.DEBIT).exists():
        raise PackageDebited()
    for usage in PackageUsage.objects.filter(package=package, state=UsageState.RESERVED).select_related("appointment"):
        package_release(appointment=usage.appointment, actor=actor)
        Appointment.objects.filter(pk=usage.appointment_id, patient_package=package).update(patient_package=None)
    package.refresh_from_db()
    package.deleted_at = timezone.now()
    package.save(update_fields=["deleted_at"])
    _append(
        package, EntryKind.MANUAL_CHANGE, Delta(), actor=actor, status=PackageStatus.INACTIVE,
        details={"changes": [{"field": "deleted", "from": False, "to": True}]},
    )  # fmt: skip
    return package


# Reconciliation (K12)


@dataclass
class Drift:
    package: PatientPackage
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (cached, ledger)


def package_reconcile(package: PatientPackage) -> Drift:
    """Recompute the package's balances from its ledger and its usages and
    compare them with the cached ones. An empty `differences` means they agree."""
    entries = list(LedgerEntry.objects.filter(package=package).order_by("seq"))
    from_ledger = {
        "sessions_total": sum(e.d_sessions_total for e in entries),
        "sessions_booked": sum(e.d_sessions_booked for e in entries),
        "sessions_used": sum(e.d_sessions_used for e in entries),
        "amount_total": sum((e.d_amount_total for e in entries), ZERO),
        "amount_open": sum((e.d_amount_open for e in entries), ZERO),
        "status": entries[-1].status if entries else package.status,
    }
    usages = list(PackageUsage.objects.filter(package=package))
    from_usages = {
        "sessions_booked": sum(u.state == UsageState.RESERVED for u in usages),
        "sessions_used": sum(u.state == UsageState.DEBITED for u in usages),
    }
    drift = Drift(package)
    for name, expected in from_ledger.items():
        if getattr(package, name) != expected:
            drift.differences[name] = (getattr(package, name), expected)
    for name, expected in from_usages.items():
        if getattr(package, name) != expected:
            drift.differences[f"{name} (usages)"] = (getattr(package, name), expected)
    if entries and (entries[-1].sessions_total, entries[-1].amount_open) != (
        from_ledger["sessions_total"],
        from_ledger["amount_open"],
    ):
        drift.differences["last entry"] = (
            (entries[-1].sessions_total, entries[-1].amount_open),
            (from_ledger["sessions_total"], from_ledger["amount_open"]),
        )
    return drift
