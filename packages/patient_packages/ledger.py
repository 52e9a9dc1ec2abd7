"""The write path of patient packages' balances and their ledger (K1, K5-K12).

Every change to a package's balances is `append`: under the package's row
lock, an UPDATE of the cached balances and the ledger entry that
explains it, in the same transaction. Nothing else writes balances.

Entry points (one durable transaction each, `clinic.transactions`):
`package_link`, `package_change` (values, status, and whether the budget
limits follow a change of sessions) and `package_renew`. Steps that higher
layers compose into their own entry points: `link` (linking a package with
its dates, a service chain) and `mark_deleted` (deleting a package releases
its bookings, which only scheduling can do). Each session's unit of a package
(reserve, debit, credit, release) is written by `consumption`, which only
`scheduling.package_sessions` calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic import money
from clinic.db import rows
from clinic.errors import NotFound, ValidationFailed, raise_if
from clinic.models import Clinic, Room, User
from clinic.normalize import phone_e164
from clinic.services import sequence_next
from clinic.transactions import entry_point, require_transaction
from packages.catalog.models import MAX_SESSIONS, PackageTemplate, Renewal
from packages.catalog.selectors import template_terms_snapshot
from packages.patient_packages import budgets, events
from packages.patient_packages.errors import PackageInactive
from packages.patient_packages.locks import lock_packages, require_locked
from packages.patient_packages.models import (
    MAX_INSTALLMENTS,
    EntryKind,
    LedgerEntry,
    PackageStatus,
    PackageUsage,
    PatientPackage,
    UsageState,
)
from patients.models import Patient

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Delta:
    total: int = 0
    booked: int = 0
    used: int = 0
    amount_total: Decimal = ZERO
    amount_open: Decimal = ZERO


def _automatic_status(current: str, remaining: int) -> str:
    """Finished when nothing remains, active again when a session comes back (K5).
    An inactive package stays inactive: only a person reactivates it."""
    if current == PackageStatus.ACTIVE and remaining == 0:
        return PackageStatus.FINISHED
    if current == PackageStatus.FINISHED and remaining > 0:
        return PackageStatus.ACTIVE
    return current


def append(
    package: PatientPackage,
    kind: EntryKind,
    delta: Delta,
    *,
    actor: User | None,
    session: int | None = None,
    status: str | None = None,
    period: dt.date | None = None,
    details: dict[str, Any] | None = None,
    note: str = "",
) -> LedgerEntry:
    """Apply `delta` to the locked `package` and append the entry that explains it."""
    require_locked(package)
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

    # The row is locked and read in this transaction, so the new values are
    # written as values: only the columns that change.
    seq = package.last_seq + 1
    after = {
        "sessions_total": total,
        "sessions_booked": booked,
        "sessions_used": used,
        "amount_total": amount_total,
        "amount_open": amount_open,
        "status": new_status,
    }
    changed = [name for name, value in after.items() if value != getattr(package, name)]
    package.sessions_total, package.sessions_booked, package.sessions_used = total, booked, used
    package.amount_total, package.amount_open, package.status = amount_total, amount_open, new_status
    package.last_seq = seq
    rows.update(package, [*changed, "last_seq"])  # as `QuerySet.update`: no history row of balances
    return _entry(package, kind, delta, seq=seq, actor=actor, session=session, period=period, details=details,
                  note=note)  # fmt: skip


def _entry(
    package: PatientPackage,
    kind: EntryKind,
    delta: Delta,
    *,
    seq: int,
    actor: User | None,
    session: int | None = None,
    period: dt.date | None = None,
    details: dict[str, Any] | None = None,
    note: str = "",
) -> LedgerEntry:
    entry = LedgerEntry(
        organization_id=package.organization_id,
        package=package,
        seq=seq,
        kind=kind,
        session=session,
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
    # An insert and nothing else (no signals listen to entries), on the path
    # of every booking and debit.
    return rows.insert(entry)


def require_active(package: PatientPackage) -> None:
    if package.status != PackageStatus.ACTIVE or package.deleted_at is not None:
        raise PackageInactive()


def _locked(package: PatientPackage) -> PatientPackage:
    locked = lock_packages([package.pk]).get(package.pk)
    # Deleted (hidden, `deleted_at`) by someone else while this request read
    # it, or never visible: a deleted package takes no more changes.
    if locked is None or locked.deleted_at is not None:
        raise NotFound(_("Package not found."))
    return locked


# Linking (K1, K3)


def _too_many_sessions() -> str:
    return _("At most %(max)s sessions.") % {"max": MAX_SESSIONS}


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_number(package_organization_id: int) -> str:
    year = timezone.localdate().year
    value = sequence_next(organization_id=package_organization_id, name=f"patient_package:{year}")
    return f"{year}-{value:05d}"


def _default_name(clinic: Clinic, sessions: int) -> str:
    """A direct package's name, stored, so in the clinic's language."""
    with translation.override(clinic.language):
        return ngettext("Package of %(count)s session", "Package of %(count)s sessions", sessions) % {"count": sessions}


def link_errors(
    *,
    patient: Patient,
    clinic: Clinic,
    data: Mapping[str, Any],
    partial: bool = False,
    terms: Mapping[str, Any] | None = None,
) -> dict[str, list[str]]:
    """Every refusal `link` makes of these arguments (its keyword arguments
    in `data`), at once. `partial`: what a form could parse, the arguments it
    could not are left out and not checked, so that its page shows these
    with its own errors. `terms`: the template's, when already read."""
    errors: dict[str, list[str]] = {}

    def given(name: str) -> bool:
        return name in data or not partial

    template = data.get("template")
    sessions, total_price = data.get("sessions"), data.get("total_price")
    if template is not None:
        terms = template_terms_snapshot(template, clinic) if terms is None else terms
        sessions = terms["sessions"] if sessions is None else sessions
        total_price = terms["price"] if total_price is None else total_price
    elif given("template"):
        if sessions is None and given("sessions"):
            errors["sessions"] = [_("Enter the number of sessions.")]
        if total_price is None and given("total_price"):
            errors["total_price"] = [_("Enter the total paid.")]
    price = None
    if total_price is not None:
        try:
            price = money.money(total_price, field="total_price")
        except ValidationFailed as error:
            errors.update(error.fields)
    if sessions is not None:
        try:
            money.price_per_session(price or money.ZERO, sessions, field="sessions")  # zero or negative sessions
        except ValidationFailed as error:
            errors.update(error.fields)
        else:
            if sessions > MAX_SESSIONS:
                errors["sessions"] = [_too_many_sessions()]
    room = data.get("room")
    if room is not None and room.clinic_id != clinic.pk:
        errors["room"] = [_("Choose a room of this clinic.")]
    installments = data.get("installments", 1)
    if given("installments") and (
        not isinstance(installments, int) or isinstance(installments, bool) or not 1 <= installments <= MAX_INSTALLMENTS
    ):
        errors["installments"] = [_("Choose between 1 and %(max)s installments.") % {"max": MAX_INSTALLMENTS}]
    reminder_hours = data.get("reminder_hours")
    if reminder_hours is not None and not 0 < reminder_hours <= 24 * 14:
        errors["reminder_hours"] = [_("Choose between 1 hour and 14 days.")]
    if given("mobile"):
        mobile = data.get("mobile")
        try:
            phone_e164(patient.mobile if mobile is None else mobile, region=clinic.country, field="mobile")
        except ValidationFailed as error:
            errors.update(error.fields)
    return errors


def link_check(*, patient: Patient, clinic: Clinic, data: Mapping[str, Any]) -> None:
    """`link`'s rules on what a form parsed, writing nothing."""
    raise_if(link_errors(patient=patient, clinic=clinic, data=data, partial=True))


def link(
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
    installments: int = 1,
) -> PatientPackage:
    """Step: link a package to a patient, from a template (its terms are
    copied) or directly with a number of sessions and a total paid. Returns
    the new package, locked for the rest of the caller's transaction."""
    require_transaction()
    terms: dict[str, Any] = template_terms_snapshot(template, clinic) if template is not None else {}
    arguments = {
        "template": template, "sessions": sessions, "total_price": total_price, "room": room, "mobile": mobile,
        "reminder_hours": reminder_hours, "installments": installments,
    }  # fmt: skip
    raise_if(link_errors(patient=patient, clinic=clinic, data=arguments, terms=terms))
    if template is not None:
        sessions = terms["sessions"] if sessions is None else sessions
        total_price = terms["price"] if total_price is None else total_price
    assert sessions is not None
    assert total_price is not None
    price = money.money(total_price, field="total_price")
    mobile = phone_e164(patient.mobile if mobile is None else mobile, region=clinic.country, field="mobile")

    renewal = terms.get("renewal", Renewal.NONE)
    terms = {**terms, "cycle_sessions": sessions, "cycle_price": str(price)}
    package = PatientPackage.objects.create(
        organization_id=patient.organization_id,
        number=_next_number(patient.organization_id),
        clinic=clinic,
        patient=patient,
        template=template,
        name=terms.get("name") or _default_name(clinic, sessions),
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
        installments=installments,
        sessions_total=sessions,
        amount_total=price,
        amount_open=price,
        renewed_through=_month_start(timezone.localdate()) if renewal == Renewal.MONTHLY else None,
        last_seq=1,
        created_by=actor,
    )
    # Nobody else can see the new row before this transaction commits: taking
    # its lock waits for nothing, and marks it for the steps that follow.
    package = _locked(package)
    # The "created" entry carries the whole initial balance as its delta, so
    # the ledger alone adds up to the balances.
    _entry(
        package,
        EntryKind.CREATED,
        Delta(total=sessions, amount_total=price, amount_open=price),
        seq=1,
        actor=actor,
        details={"template": template.pk if template else None},
    )
    events.package_linked(events.PackageEvent(package, actor))
    return package


# Link a package to a patient (K1): `link` as an entry point.
package_link = entry_point(link)


# Manual changes (K5, K7)

_CHANGEABLE = ("sessions_total", "amount_total", "paid_at", "status", "notes")


class Limits:
    """Whether a package's budget limits follow a manual raise of its sessions."""

    GROW = "grow"  # a courtesy session: the limits make room for it
    KEEP = "keep"  # an insurer's authorization: the limits stay as authorized
    choices = (GROW, KEEP)


def grown_limits(package: PatientPackage, added: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The package's limits grown for `added` more sessions, with the diff.

    The appointments limit grows by `added`; the limits on the package's
    session service (the item with the most sessions) grow by `added` sessions
    of it, and the total amount limit by their price. Limits on other
    services (an assessment) stay.
    """
    limits = dict(package.terms.get("limits") or {})
    main = package.session_item
    main_service = int(main["service"]) if main else None
    price = money.money(main.get("unit_price") or "0") if main else ZERO
    diff: list[dict[str, Any]] = []

    def grow(field: str, before: Any, after: Any, **extra: Any) -> Any:
        diff.append({"field": field, "from": before, "to": after, **extra})
        return after

    if limits.get("max_appointments") is not None:
        before = int(limits["max_appointments"])
        limits["max_appointments"] = grow("limits.max_appointments", before, before + added)
    if limits.get("max_amount") is not None and price > 0:
        before_amount = money.money(limits["max_amount"])
        limits["max_amount"] = grow("limits.max_amount", str(before_amount), str(before_amount + price * added))
    services = []
    for limit in limits.get("services") or []:
        limit = dict(limit)
        if main_service is not None and int(limit["service"]) == main_service:
            name = limit.get("service_name", "")
            if limit.get("max_quantity") is not None:
                before = int(limit["max_quantity"])
                limit["max_quantity"] = grow("limits.service_quantity", before, before + added, service_name=name)
            if limit.get("max_amount") is not None and price > 0:
                before_amount = money.money(limit["max_amount"])
                limit["max_amount"] = grow(
                    "limits.service_amount", str(before_amount), str(before_amount + price * added), service_name=name
                )
        services.append(limit)
    if "services" in limits:
        limits["services"] = services
    return limits, diff


@entry_point
def package_change(
    *, package: PatientPackage, actor: User | None, limits: str | None = None, **changes: Any
) -> PatientPackage:
    """An exceptional change of a package's values, recorded with what changed
    from what to what; balances and the average value follow (K7).

    Raising the sessions of a package with budget limits must say what the
    limits do (`limits`): grow with the sessions (`Limits.GROW`), or stay
    (`Limits.KEEP`), in which case the limits, not the sessions, decide how
    many can be booked.
    """
    unknown = set(changes) - set(_CHANGEABLE)
    if unknown:
        raise ValidationFailed(fields={name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    if limits is not None and limits not in Limits.choices:
        raise ValidationFailed(fields={"limits": [_("Choose whether the limits grow or stay.")]})
    package = _locked(package)
    errors: dict[str, list[str]] = {}
    diff: list[dict[str, Any]] = []
    delta = Delta()
    new_limits = None

    sessions = changes.get("sessions_total", package.sessions_total)
    if sessions != package.sessions_total:
        floor = package.sessions_used + package.sessions_booked
        if not isinstance(sessions, int) or sessions < max(floor, 1):
            errors["sessions_total"] = [
                _("Attended: %(used)s, booked: %(booked)s.")
                % {"used": package.sessions_used, "booked": package.sessions_booked}
                + " "
                + ngettext(
                    "The package cannot have fewer than %(floor)s session.",
                    "The package cannot have fewer than %(floor)s sessions.",
                    max(floor, 1),
                )
                % {"floor": max(floor, 1)}
            ]
        elif sessions > MAX_SESSIONS:
            errors["sessions_total"] = [_too_many_sessions()]
        else:
            diff.append({"field": "sessions_total", "from": package.sessions_total, "to": sessions})
            delta = Delta(total=sessions - package.sessions_total)
            if delta.total > 0 and budgets.has_limits(package):
                if limits is None:
                    errors["limits"] = [
                        _("This package has budget limits: choose whether they grow with the new sessions or stay.")
                    ]
                else:
                    # The decision is history too: "limits: stay as they were".
                    diff.append({"field": "limits", "from": "", "to": limits})
                    if limits == Limits.GROW:
                        new_limits, grown = grown_limits(package, delta.total)
                        diff.extend(grown)

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
    fields = ["paid_at", "notes"]
    if new_limits is not None:
        package.terms = {**package.terms, "limits": new_limits}
        fields.append("terms")
    append(package, EntryKind.MANUAL_CHANGE, delta, actor=actor, status=status, details={"changes": diff})
    # After the balances: django-simple-history records the package as it now
    # is, and who changed it, in a request or not (a task, a command).
    package._history_user = actor  # type: ignore[attr-defined]
    package.save(update_fields=fields)
    if delta.amount_total:
        events.package_changed(events.PackageEvent(package, actor, amount_change=delta.amount_total))
    return package


# Renewal (K6)


def _add_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@entry_point
def package_renew(*, package: PatientPackage, actor: User | None, period: dt.date | None = None) -> LedgerEntry | None:
    """Start a new monthly cycle: the cycle's sessions and value are added (K6).

    Without `period`, the next month not yet renewed ("renew now"). A month
    renews once: asking again returns None, and the database's unique rule on
    (package, renewal month) backs that up.
    """
    package = _locked(package)
    if package.renewal != Renewal.MONTHLY:
        raise ValidationFailed(_("This package does not renew."), code="package_not_renewable")
    if package.status == PackageStatus.INACTIVE:
        raise PackageInactive()
    period = _month_start(period) if period else _add_month(package.renewed_through or timezone.localdate())
    if package.renewed_through is not None and period <= package.renewed_through:
        return None
    sessions = int(package.terms.get("cycle_sessions") or package.terms.get("sessions") or 0)
    price = Decimal(package.terms.get("cycle_price") or package.terms.get("price") or "0")
    entry = append(
        package,
        EntryKind.RENEWAL,
        Delta(total=sessions, amount_total=price, amount_open=price),
        actor=actor,
        period=period,
        details={"period": period.isoformat()},
    )
    PatientPackage.objects.filter(pk=package.pk).update(renewed_through=period)
    package.renewed_through = period
    if price:
        events.package_changed(events.PackageEvent(package, actor, amount_change=price))
    return entry


# Deletion (K4)


def was_debited(package: PatientPackage) -> bool:
    """Whether a session of the package was ever debited: such a package can
    only be deactivated, never deleted (K4)."""
    return LedgerEntry.objects.filter(package=package, kind=EntryKind.DEBIT).exists()


def mark_deleted(package: PatientPackage, *, actor: User | None) -> PatientPackage:
    """Step: hide a package whose sessions were all released; its ledger stays.
    The caller (`scheduling`) has released its bookings first."""
    require_locked(package)
    assert package.sessions_booked == 0, "release the bookings first"
    assert package.sessions_used == 0, "a debited package is deactivated, never deleted"
    package.deleted_at = timezone.now()
    package.save(update_fields=["deleted_at"])
    append(
        package, EntryKind.MANUAL_CHANGE, Delta(), actor=actor, status=PackageStatus.INACTIVE,
        details={"changes": [{"field": "deleted", "from": False, "to": True}]},
    )  # fmt: skip
    events.package_deleted(events.PackageEvent(package, actor))
    return package


# Reconciliation (K12)


@dataclass
class Drift:
    package: PatientPackage
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (cached, ledger)


def package_reconcile(package: PatientPackage) -> Drift:
    """Recompute the package's balances from its ledger and its session units
    and compare them with the cached ones. An empty `differences` means they
    agree. (`scheduling.package_sessions.sessions_reconcile` also checks each
    unit against its appointment.)"""
    package.refresh_from_db()
    entries = list(LedgerEntry.objects.filter(package=package).order_by("seq"))
    from_ledger = {
        "sessions_total": sum(e.d_sessions_total for e in entries),
        "sessions_booked": sum(e.d_sessions_booked for e in entries),
        "sessions_used": sum(e.d_sessions_used for e in entries),
        "amount_total": sum((e.d_amount_total for e in entries), ZERO),
        "amount_open": sum((e.d_amount_open for e in entries), ZERO),
        "status": entries[-1].status if entries else package.status,
        "last_seq": entries[-1].seq if entries else 0,
    }
    usages = list(PackageUsage.objects.filter(package=package))
    from_usages = {
        "sessions_booked": sum(u.state == UsageState.RESERVED for u in usages),
        "sessions_used": sum(u.state == UsageState.DEBITED for u in usages),
        "amount_open": package.amount_total - sum((u.amount for u in usages if u.state == UsageState.DEBITED), ZERO),
    }
    drift = Drift(package)
    for name, expected in from_ledger.items():
        if getattr(package, name) != expected:
            drift.differences[name] = (getattr(package, name), expected)
    for name, expected in from_usages.items():
        if getattr(package, name) != expected:
            drift.differences[f"{name} (usages)"] = (getattr(package, name), expected)
    if [e.seq for e in entries] != list(range(1, len(entries) + 1)):
        drift.differences["seq"] = ([e.seq for e in entries], list(range(1, len(entries) + 1)))
    if entries and (entries[-1].sessions_total, entries[-1].amount_open) != (
        from_ledger["sessions_total"],
        from_ledger["amount_open"],
    ):
        drift.differences["last entry"] = (
            (entries[-1].sessions_total, entries[-1].amount_open),
            (from_ledger["sessions_total"], from_ledger["amount_open"]),
        )
    return drift
