"""A session's unit of a package (K8): reserve, debit, credit, release.

These are steps, not entry points: `scheduling.package_sessions`, the one
owner of the link between appointments and package sessions, calls them
inside its entry points after `scheduling.locks` has locked the appointment,
then the packages, then the live units, in that order. An import-linter
contract lets no other module import this one.

Each step takes the locked package and the session's locked live unit (or
None), decides (status, availability, budget) and writes the unit, the
balances and the ledger entry together. A session is an opaque reference:
its id (an appointment's), its start and the service lines it books.

    reserve  (no unit)        -> reserved   booked +1
    debit    (no unit)        -> debited    used +1            open -value
    debit    reserved         -> debited    booked -1, used +1 open -value
    credit   debited          -> reserved   booked +1, used -1 open +value
    release  reserved         -> released   booked -1
    release  debited          -> credit, then release
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clinic import money
from clinic.db import rows
from clinic.models import User
from packages.catalog.budget import AppointmentLine
from packages.patient_packages import budgets
from packages.patient_packages.errors import AppointmentHasOtherPackage, PackageExhausted
from packages.patient_packages.ledger import Delta, append, require_active
from packages.patient_packages.locks import require_locked
from packages.patient_packages.models import EntryKind, PackageUsage, PatientPackage, UsageState

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Session:
    """What a package knows of a session: which one, when, and what it books."""

    id: int
    start: dt.datetime
    lines: Sequence[AppointmentLine] = ()

    @property
    def consumption(self) -> list[dict[str, Any]]:
        return [
            {"service": line.service_id, "quantity": line.quantity, "unit_price": str(line.unit_price)}
            for line in self.lines
        ]

    @property
    def details(self) -> dict[str, Any]:
        return {"session": self.start.astimezone(dt.UTC).isoformat()}


def _check_budget(package: PatientPackage, session: Session, usage: PackageUsage | None) -> None:
    """Refuse what the budget limits do not allow: this session counted once,
    at its start, with its lines."""
    budgets.session_check(
        package, session.lines, when=session.start, exclude_session=session.id if usage is not None else None
    ).raise_if_exceeded()


def _owned(package: PatientPackage, usage: PackageUsage | None) -> PackageUsage | None:
    require_locked(package)
    if usage is not None and usage.package_id != package.pk:
        raise AppointmentHasOtherPackage()
    return usage


def _new_unit(package: PatientPackage, session: Session, state: UsageState, amount: Decimal = ZERO) -> PackageUsage:
    """The session's new unit of the package: one INSERT, no signals."""
    return rows.insert(
        PackageUsage(
            organization_id=package.organization_id,
            package=package,
            session=session.id,
            session_start=session.start,
            consumption=session.consumption,
            state=state,
            amount=amount,
        )
    )


def reserve(package: PatientPackage, usage: PackageUsage | None, *, session: Session, actor: User | None
            ) -> PackageUsage:  # fmt: skip
    """The session takes one unit of the package (booking). A unit the
    session already holds is kept as it is."""
    usage = _owned(package, usage)
    if usage is not None:
        return usage
    require_active(package)
    _check_budget(package, session, None)
    if package.sessions_available < 1:
        raise PackageExhausted()
    usage = _new_unit(package, session, UsageState.RESERVED)
    append(package, EntryKind.RESERVE, Delta(booked=1), actor=actor, session=session.id, details=session.details)
    return usage


def debit(package: PatientPackage, usage: PackageUsage | None, *, session: Session, actor: User | None
          ) -> PackageUsage:  # fmt: skip
    """One session used: attended, or paid from the package."""
    usage = _owned(package, usage)
    if usage is not None and usage.state == UsageState.DEBITED:
        return usage
    require_active(package)
    if usage is None:
        _check_budget(package, session, None)
        if package.sessions_available < 1:
            raise PackageExhausted()
    value = money.next_session_value(package.amount_open, package.sessions_remaining)
    if usage is None:
        usage = _new_unit(package, session, UsageState.DEBITED, value)
        booked = 0
    else:
        usage.state, usage.amount = UsageState.DEBITED, value
        rows.update(usage, ["state", "amount", "updated_at"])
        booked = -1
    append(
        package,
        EntryKind.DEBIT,
        Delta(booked=booked, used=1, amount_open=-value),
        actor=actor,
        session=session.id,
        details={**session.details, "value": str(value)},
    )
    return usage


def credit(package: PatientPackage, usage: PackageUsage, *, session: Session, actor: User | None) -> PackageUsage:
    """Give a debited session back; the session keeps its booking. A finished
    package reopens (K5, K8)."""
    _owned(package, usage)
    if usage.state != UsageState.DEBITED:
        return usage
    value = usage.amount
    usage.state, usage.amount = UsageState.RESERVED, ZERO
    rows.update(usage, ["state", "amount", "updated_at"])
    append(
        package,
        EntryKind.CREDIT,
        Delta(booked=1, used=-1, amount_open=value),
        actor=actor,
        session=session.id,
        details={**session.details, "value": str(value)},
    )
    return usage


def release(package: PatientPackage, usage: PackageUsage, *, session: Session, actor: User | None) -> PackageUsage:
    """Free the session's unit (deleted, cancelled, a releasing status, moved
    to another package); a debited session is credited back first."""
    _owned(package, usage)
    if usage.state == UsageState.DEBITED:
        credit(package, usage, session=session, actor=actor)
    usage.state = UsageState.RELEASED
    rows.update(usage, ["state", "updated_at"])
    append(package, EntryKind.RELEASE, Delta(booked=-1), actor=actor, session=session.id, details=session.details)
    return usage


def rebook(package: PatientPackage, usage: PackageUsage, *, session: Session) -> None:
    """The session moved or its lines changed: check the budget with its new
    lines, in its new month for a monthly plan (this session counted once),
    and keep both on the unit. The balances do not change, so the ledger has
    nothing to record."""
    _owned(package, usage)
    new_lines = usage.consumption != session.consumption
    new_cycle = budgets.budget_window(package, usage.session_start) != budgets.budget_window(package, session.start)
    if new_lines or new_cycle:
        _check_budget(package, session, usage)
    if new_lines or usage.session_start != session.start:
        usage.session_start, usage.consumption = session.start, session.consumption
        rows.update(usage, ["session_start", "consumption", "updated_at"])
