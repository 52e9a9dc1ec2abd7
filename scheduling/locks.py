"""The project's one lock order, for every entry point that touches an
appointment's package session:

1. the patient, only when a booking may create a chained package (S5): two
   bookings of a trigger service for one patient queue here, and the second
   finds the package the first one linked;
2. the appointments, in primary-key order;
3. the packages, in primary-key order: the appointments' own and the ones
   the use case needs (the package an appointment moves to, the package
   being deleted);
4. the live session units (usages) of those appointments, in primary-key order;
5. what the apps above lock with them (`charges_locked`: billing locks the
   appointments' receivables, and a deleted package's sale, in primary-key
   order), when the use case touches more than one appointment or a sale.

Every check that decides (availability, budget, an existing chained package,
the set of bookings of a package being deleted) runs after `lock` returns.
Two entry points that need the same rows queue on the first one they share
instead of deadlocking; where a deadlock could still happen (the exclusion
constraint against double bookings waits on another transaction's new row),
`clinic.transactions.entry_point` runs the use case again.

All locks are `FOR NO KEY UPDATE` (see `packages.patient_packages.locks`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from clinic.db.rows import Columns, columns, lock_organization, name
from clinic.errors import Conflict
from clinic.hooks import Hook
from clinic.transactions import require_transaction
from packages.patient_packages.locks import held, lock_live_usages, lock_packages
from packages.patient_packages.models import LIVE_STATES, PackageUsage, PatientPackage
from patients.models import Patient
from scheduling.models import Appointment

logger = logging.getLogger(__name__)


class AppointmentGone(Conflict):
    code = "conflict"
    default_detail = _("This appointment was deleted meanwhile.")


@dataclass
class Locked:
    """What an entry point holds: appointments, packages and live units by id
    (units by appointment id)."""

    appointments: dict[int, Appointment] = field(default_factory=dict)
    packages: dict[int, PatientPackage] = field(default_factory=dict)
    usages: dict[int, PackageUsage] = field(default_factory=dict)
    patient: int | None = None  # whose row is locked, for a service chain

    def appointment(self, pk: int) -> Appointment:
        try:
            return self.appointments[pk]
        except KeyError:
            raise AppointmentGone() from None

    def add_packages(self, packages: dict[int, PatientPackage]) -> None:
        self.packages.update(packages)


@dataclass(frozen=True)
class LockedCharges:
    appointments: list[int]
    sales: list[int]  # packages whose sale's receivables the use case changes (a deletion)


# Called at the end of `lock` when several appointments (or a sale) are held:
# their charges are locked together, in order, before any step locks the
# patient's account (which would otherwise come between two of them).
charges_locked: Hook[LockedCharges] = Hook("charges_locked")


def _one_with_its_package(pk: int) -> tuple[dict[int, Appointment], dict[int, PatientPackage]]:
    """An appointment linked to a package, locked with it in one statement,
    in the project's order: PostgreSQL locks the rows of a join in the order
    of its `FOR ... OF` list, the appointment and then its package. Nothing
    when the appointment is gone or has no package, or when it moved to
    another package while this waited for its lock (the join, checked again
    on the new row, no longer matches): `lock` then takes the rows one by one."""
    rows = (
        Appointment.objects.select_related("patient_package")
        .select_for_update(no_key=True, of=("self", "patient_package"))
        .filter(pk=pk, patient_package__isnull=False)  # an inner join: a lock cannot take a missing row
        .order_by()
    )
    appointment = next(iter(rows), None)
    if appointment is None:
        return {}, {}
    assert appointment.patient_package is not None  # the inner join
    package = held(appointment.patient_package)
    return {appointment.pk: appointment}, {package.pk: package}


def _joined() -> tuple[Columns[Appointment], Columns[PatientPackage], Columns[PackageUsage]]:
    """What `_one_with_its_package_and_unit` selects, in lock order."""
    return columns(Appointment, "a"), columns(PatientPackage, "p"), columns(PackageUsage, "u")


@functools.cache
def _with_its_package_and_unit_sql() -> str:
    appointment, package, unit = Appointment, PatientPackage, PackageUsage
    return (
        f"SELECT {', '.join(shape.sql for shape in _joined())} "  # noqa: S608 (names from the models' metadata)
        f"FROM {name(appointment)} a "
        f"JOIN {name(package)} p ON p.{name(package, 'id')} = a.{name(appointment, 'patient_package')} "
        f"JOIN {name(unit)} u ON u.{name(unit, 'session')} = a.{name(appointment, 'id')} "
        f"AND u.{name(unit, 'state')} = ANY(%s) "
        f"WHERE a.{name(appointment, 'id')} = %s AND a.{name(appointment, 'organization')} = %s "
        "FOR NO KEY UPDATE OF a, p, u"
    )


Held = tuple[dict[int, Appointment], dict[int, PatientPackage], dict[int, PackageUsage]]


def _one_with_its_package_and_unit(pk: int) -> Held | None:
    """An appointment holding a live unit of its package (a booked or
    attended session: every status change of one), locked with both in one
    statement, in the project's order (PostgreSQL locks a row's tables in the
    order of the `OF` list). The statement is written by hand: the unit's
    session is an opaque reference (`PackageUsage.session`), not a relation
    the ORM could join, and compiling three querysets cost more Python than
    PostgreSQL spent on the rows (`bench/ledger_debits.py`).

    None when the statement does not apply (not PostgreSQL, or a scope that
    is not one organization's) or finds nothing of the kind: no package, no
    live unit, or a row that changed while this waited for its lock so that
    the join no longer matches. `lock` then takes the rows as usual; what
    this one locked stays locked, and it is the start of the same order. (A
    unit in another package than the appointment's is returned: `lock`
    locks that package too and reports it.)"""
    organization = lock_organization()
    if organization is None:
        return None
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(_with_its_package_and_unit_sql(), [list(LIVE_STATES), pk, organization])
        row = cursor.fetchone()
    if row is None:
        return None
    appointment_columns, package_columns, unit_columns = _joined()
    first, second = appointment_columns.count, appointment_columns.count + package_columns.count
    appointment = appointment_columns.build(row[:first])
    package = package_columns.build(row[first:second])
    usage = unit_columns.build(row[second:])
    appointment.patient_package = held(package)  # the locked instance, as `select_related` gives it
    return {appointment.pk: appointment}, {package.pk: package}, {appointment.pk: usage}


def lock(
    *,
    appointments: Iterable[int] = (),
    packages: Iterable[int | None] = (),
    patient: int | None = None,
    sales: Iterable[int] = (),
) -> Locked:
    """Lock in the project's order and return what is held. Appointments that
    no longer exist are left out (`Locked.appointment` says so)."""
    require_transaction()
    held = Locked()
    if patient is not None:
        Patient.objects.select_for_update(no_key=True).filter(pk=patient).values_list("pk", flat=True).first()
        held.patient = patient
    appointment_ids = sorted(set(appointments))
    package_ids = {pk for pk in packages if pk is not None}
    if len(appointment_ids) == 1 and not package_ids:
        # One appointment and no other package (a status change, a deletion):
        # it, its package and its unit in one statement, else the first two.
        joined = _one_with_its_package_and_unit(appointment_ids[0])
        if joined is not None:
            held.appointments, held.packages, held.usages = joined
        else:
            held.appointments, held.packages = _one_with_its_package(appointment_ids[0])
    if appointment_ids and not held.appointments:
        # Only the rows: a status change needs nothing else, and building the
        # joins costs more than the query (a move reads its clinic when it needs it).
        rows = Appointment.objects.select_for_update(no_key=True).filter(pk__in=appointment_ids)
        rows = rows.order_by("pk") if len(appointment_ids) > 1 else rows.order_by()
        held.appointments = {appointment.pk: appointment for appointment in rows}
    package_ids |= {a.patient_package_id for a in held.appointments.values() if a.patient_package_id is not None}
    held.packages.update(lock_packages(package_ids - held.packages.keys()))
    # Only an appointment linked to a package holds a unit (the owner keeps it
    # so): without packages there is nothing to lock.
    if not held.usages:
        held.usages = lock_live_usages(held.appointments) if held.packages else {}
    strays = {usage.package_id for usage in held.usages.values()} - set(held.packages)
    if strays:
        # A unit in a package its appointment does not point at: the owner
        # never leaves one (`scheduling.package_sessions`), reconciliation
        # reports it. Lock it out of order rather than fail the use case.
        logger.error("session units in packages %s not linked to their appointments", sorted(strays))
        held.packages.update(lock_packages(strays))
    sale_ids = sorted(set(sales))
    if len(held.appointments) > 1 or sale_ids:
        charges_locked(LockedCharges(sorted(held.appointments), sale_ids))
    return held
