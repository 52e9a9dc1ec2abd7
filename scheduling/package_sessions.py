"""The one owner of the link between appointments and package sessions (K8).

An appointment linked to a patient package holds one unit of it, in the
state its status asks for:

- released when its status releases the session (justified absence,
  cancelled, or a custom status configured so), when it is unlinked from the
  package, moved to another package, or deleted; a debited session is
  credited back first;
- debited when its status debits (attended, or a custom status) or when it
  was paid from the package (`Appointment.paid_from_package`);
- reserved otherwise.

`sync` puts the unit in that state, whatever happened before, so toggling a
status back and forth never debits twice. It is the only caller of
`packages.patient_packages.consumption` (an import-linter contract says so),
and it runs inside an entry point after `scheduling.locks.lock`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from clinic.models import User
from packages.catalog.budget import AppointmentLine as BudgetLine
from packages.catalog.models import Service
from packages.patient_packages import consumption
from packages.patient_packages.consumption import Session
from packages.patient_packages.models import LIVE_STATES, PatientPackage, UsageState
from scheduling.locks import Locked
from scheduling.models import Appointment, AppointmentLine, AppointmentStatus


def wanted_state(appointment: Appointment, status: AppointmentStatus) -> UsageState | None:
    """The state the appointment's unit must be in; None: it holds none."""
    if appointment.patient_package_id is None or status.releases:
        return None
    if status.debits or appointment.paid_from_package:
        return UsageState.DEBITED
    return UsageState.RESERVED


def budget_lines(lines: Sequence[tuple[Service, int, Decimal]]) -> list[BudgetLine]:
    """(service, quantity, unit price) triples as the budget reads them."""
    return [
        BudgetLine(service_id=service.pk, quantity=quantity, unit_price=price) for service, quantity, price in lines
    ]


def _stored_lines(appointment: Appointment) -> list[BudgetLine]:
    return [
        BudgetLine(service_id=service_id, quantity=quantity, unit_price=price)
        for service_id, quantity, price in AppointmentLine.objects.filter(appointment=appointment)
        .order_by("pk")
        .values_list("service_id", "quantity", "price")
    ]


def sync(
    appointment: Appointment,
    *,
    locked: Locked,
    status: AppointmentStatus,
    actor: User | None,
    lines: Sequence[BudgetLine] | None = None,
) -> None:
    """Put the appointment's unit in the state its status asks for, at its
    start and with its service lines (`lines`, when they were just written;
    read from the database when a new unit needs them)."""
    usage = locked.usages.get(appointment.pk)
    wanted = wanted_state(appointment, status)

    def session(with_lines: bool) -> Session:
        if with_lines and lines is None:
            return Session(appointment.pk, appointment.start, _stored_lines(appointment))
        return Session(appointment.pk, appointment.start, lines or ())

    if usage is not None and (wanted is None or usage.package_id != appointment.patient_package_id):
        consumption.release(locked.packages[usage.package_id], usage, session=session(False), actor=actor)
        del locked.usages[appointment.pk]
        usage = None
    if wanted is None:
        return
    package = locked.packages[appointment.patient_package_id]  # type: ignore[index]
    if usage is None:
        take = consumption.reserve if wanted == UsageState.RESERVED else consumption.debit
        locked.usages[appointment.pk] = take(package, None, session=session(True), actor=actor)
        return
    if lines is not None or usage.session_start != appointment.start:
        consumption.rebook(package, usage, session=session(True))
    if wanted == UsageState.DEBITED and usage.state == UsageState.RESERVED:
        consumption.debit(package, usage, session=session(False), actor=actor)
    elif wanted == UsageState.RESERVED and usage.state == UsageState.DEBITED:
        consumption.credit(package, usage, session=session(False), actor=actor)


def unlink(appointment: Appointment, *, locked: Locked, actor: User | None) -> None:
    """Release the appointment's unit, if it holds one (deleted, or its
    package is being deleted)."""
    usage = locked.usages.pop(appointment.pk, None)
    if usage is not None:
        session = Session(appointment.pk, appointment.start)
        consumption.release(locked.packages[usage.package_id], usage, session=session, actor=actor)


# Reconciliation: every unit agrees with its appointment.


@dataclass
class SessionDrift:
    package: PatientPackage
    differences: dict[str, tuple[object, object]] = field(default_factory=dict)  # appointment -> (unit, wanted)


def sessions_reconcile(package: PatientPackage) -> SessionDrift:
    """Check that every live unit of the package belongs to an appointment
    linked to it, in the state its status asks for, and that every
    appointment linked to it that should hold a unit holds one."""
    statuses = {status.code: status for status in AppointmentStatus.objects.all()}
    units = {usage.session: usage.state for usage in package.usages.filter(state__in=LIVE_STATES)}
    linked = {appointment.pk: appointment for appointment in Appointment.objects.filter(patient_package=package)}
    drift = SessionDrift(package)
    for session, unit_state in units.items():
        if session not in linked:
            drift.differences[f"session {session}"] = (unit_state, "no appointment linked")
    for appointment in linked.values():
        status = statuses.get(appointment.status)
        if status is None:
            drift.differences[f"appointment {appointment.pk}"] = (appointment.status, "unknown status")
            continue
        wanted = wanted_state(appointment, status)
        state = units.get(appointment.pk)
        if state != wanted:
            drift.differences[f"appointment {appointment.pk}"] = (state, wanted)
    return drift
