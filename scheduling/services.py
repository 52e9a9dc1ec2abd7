"""Every write on appointments, and the use cases that tie them to packages.

Entry points (one durable transaction each, retried on a lost race by
`clinic.transactions.entry_point`): `appointment_book`, `appointment_update`
(move, resize, edit, and optionally change the status, all or nothing),
`appointment_set_status`, `appointment_delete`, `evolution_note_add`,
`appointment_pay_from_package` and `appointment_unpay_from_package` (the
API's debit and credit), `patient_package_delete` and
`appointment_status_save`. `scheduling.recurrence` adds the series and the
link of a package with its dates.

Each takes its locks through `scheduling.locks.lock` (appointments, then
packages, then session units) before deciding anything, and leaves the
package side to `scheduling.package_sessions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from clinic.errors import NotFound, ValidationFailed, full_clean
from clinic.models import Clinic, Organization, Professional, Room, User
from clinic.selectors import professional_is_working
from clinic.transactions import Retry, entry_point
from clinic.unset import KEEP, Keep
from packages.catalog import selectors as catalog
from packages.catalog.models import PackageTemplate, Service
from packages.patient_packages import ledger
from packages.patient_packages.errors import AppointmentHasOtherPackage, PackageDebited
from packages.patient_packages.locks import lock_packages
from packages.patient_packages.models import PackageStatus, PatientPackage
from patients.models import Patient
from scheduling import events, package_sessions, wording
from scheduling.errors import DoubleBooking, FutureSession, InvalidTransition, SessionAttended
from scheduling.events import ChargeEvent
from scheduling.locks import Locked, lock
from scheduling.models import (
    Appointment,
    AppointmentLine,
    AppointmentSeries,
    AppointmentStatus,
    BuiltinStatus,
    EvolutionNote,
)
from scheduling.reminders import services as reminders

# Built-in statuses: code -> (colour, debits, releases, position) (A2, K8).
BUILTIN_STATUSES = {
    BuiltinStatus.SCHEDULED: ("#0d6efd", False, False, 10),
    BuiltinStatus.CONFIRMED: ("#0891b2", False, False, 20),
    BuiltinStatus.ATTENDED: ("#16a34a", True, False, 30),
    BuiltinStatus.MISSED: ("#dc2626", False, False, 40),
    BuiltinStatus.JUSTIFIED_ABSENCE: ("#d97706", False, True, 50),
    BuiltinStatus.CANCELLED: ("#6b7280", False, True, 60),
}
# Units of one service in one appointment: more is a typing mistake.
MAX_QUANTITY = 99
# The years a session can be in: year 1 or 9999 is a typing mistake (and
# 9999-12-31 plus a session's duration is past what a date can hold).
YEARS = range(2000, 2101)
# The transition table: a cancelled appointment is over; everything else can
# move to any status (clinics correct a wrongly marked session all the time).
TERMINAL = {BuiltinStatus.CANCELLED}
# A debiting status (attended) for a session that starts later than this is
# asked about first (`confirm_future`): a patient who arrives a little early
# is attended at once, a session two days ahead is a click on the wrong row.
FUTURE_DEBIT_GRACE = dt.timedelta(minutes=30)


# Statuses (A2)


def is_future_debit(
    *, start: dt.datetime, status: AppointmentStatus, confirm_future: bool, now: dt.datetime | None = None
) -> bool:
    """A debiting status for a session more than `FUTURE_DEBIT_GRACE` ahead
    that the caller did not confirm (`confirm_future`)."""
    return not confirm_future and status.debits and start > (now or timezone.now()) + FUTURE_DEBIT_GRACE


def future_session(
    *, start: dt.datetime, status: AppointmentStatus, clinic: Clinic, now: dt.datetime | None = None
) -> FutureSession:
    """The refusal of `is_future_debit`, asking the question the page shows:
    "This session is on Thu 4 Dec at 10:00, in 2 days. Mark it “Attended”
    anyway?"."""
    tz = ZoneInfo(clinic.time_zone)
    return FutureSession(
        _("This session is on %(day)s at %(time)s, %(relative)s. Mark it “%(status)s” anyway?")
        % {
            "day": wording.day_label(start, tz),
            "time": wording.time_label(start, tz),
            "relative": wording.relative_label(start, now or timezone.now(), tz),
            "status": status.display_name,
        },
        fields={"confirm_future": [_("The session has not started yet: confirm to mark it anyway.")]},
    )


def statuses_create_builtin(organization: Organization) -> None:
    """Give a new organization the six built-in statuses. Runs when the
    organization is created (`clinic.services.on_organization_created`),
    never on a read; idempotent."""
    AppointmentStatus.objects.bulk_create(
        [
            AppointmentStatus(
                organization_id=organization.pk,
                code=code,
                name=str(code.label),
                color=color,
                debits=debits,
                releases=releases,
                position=position,
                is_builtin=True,
            )
            for code, (color, debits, releases, position) in BUILTIN_STATUSES.items()
        ],
        ignore_conflicts=True,
    )


def _builtin(code: str) -> AppointmentStatus:
    color, debits, releases, position = BUILTIN_STATUSES[BuiltinStatus(code)]
    return AppointmentStatus(
        code=code, name=str(BuiltinStatus(code).label), color=color, debits=debits, releases=releases,
        position=position, is_builtin=True,
    )  # fmt: skip


def status_for_code(code: str, *, active_only: bool = True) -> AppointmentStatus:
    """The organization's status with this code (in the open scope): an
    active one to move to, any one to read an appointment's current flags.

    A built-in status's flags never change (only its colour does), and every
    organization has all six, so they are read from `BUILTIN_STATUSES`
    without a query: the hot paths (booking, attending) use them."""
    if code in BUILTIN_STATUSES:
        return _builtin(code)
    statuses = AppointmentStatus.objects.filter(code=code)
    status = (statuses.filter(is_active=True) if active_only else statuses).first()
    if status is None:
        raise ValidationFailed(fields={"status": [_("Unknown status “%(code)s”.") % {"code": code}]})
    return status


@entry_point
def appointment_status_save(
    *,
    organization: Organization,
    code: str,
    name: str,
    color: str = "#64748b",
    debits: bool = False,
    releases: bool = False,
    status: AppointmentStatus | None = None,
) -> AppointmentStatus:
    """Create or change a custom status. Built-ins keep their code, flags and
    (translated) name; only their colour changes."""
    if status is None:
        status = AppointmentStatus(organization=organization, code=code.strip())
    elif status.is_builtin:
        status.color = color
        status.save()
        return status
    elif (status.debits, status.releases) != (debits, releases) and Appointment.objects.filter(
        status=status.code
    ).exists():
        # Its appointments' package sessions follow what it does: changing that
        # would silently rewrite their packages' balances and history.
        raise ValidationFailed(
            _("Appointments have this status: what it does to their packages cannot change. Create a new status."),
            code="status_in_use",
            fields={"debits": [_("This status is in use.")]},
        )
    status.name, status.color, status.debits, status.releases = name.strip(), color, debits, releases
    full_clean(status)
    status.save()
    return status


# Booking


@dataclass(frozen=True)
class LineInput:
    service: Service
    quantity: int = 1
    price: Decimal | None = None


@dataclass
class Booking:
    appointment: Appointment
    warnings: list[str]
    # The service lines as written, when this use case wrote them.
    lines: list[AppointmentLine] | None = None


ParsedLines = list[tuple[Service, int, Decimal]]


def _lines(clinic: Clinic, lines: Sequence[LineInput]) -> ParsedLines:
    if not lines:
        raise ValidationFailed(fields={"services": [_("Choose at least one service.")]})
    # The clinic's own services are visible to it; only another clinic's need the sharing rules.
    visible = {line.service.pk for line in lines if line.service.clinic_id == clinic.pk}
    shared = {line.service.pk for line in lines} - visible
    if shared:
        visible |= set(catalog.visible_services(clinic=clinic).filter(pk__in=shared).values_list("pk", flat=True))
    errors: list[str] = []
    result = []
    for line in lines:
        if line.service.pk not in visible:
            errors.append(_("Unknown service."))
        elif not 1 <= line.quantity <= MAX_QUANTITY:
            errors.append(_("The quantity goes from 1 to %(max)s.") % {"max": MAX_QUANTITY})
        else:
            price = line.service.price if line.price is None else line.price
            if price < 0:
                errors.append(_("The price cannot be negative."))
            result.append((line.service, line.quantity, price))
    if errors:
        raise ValidationFailed(fields={"services": errors})
    return result


def _check_years(**moments: dt.datetime | None) -> None:
    errors = {
        name: [_("Choose a date between %(first)s and %(last)s.") % {"first": YEARS[0], "last": YEARS[-1]}]
        for name, moment in moments.items()
        if moment is not None and moment.year not in YEARS
    }
    if errors:
        raise ValidationFailed(fields=errors)


def _write_lines(appointment: Appointment, parsed: ParsedLines) -> list[AppointmentLine]:
    return AppointmentLine.objects.bulk_create(
        [
            AppointmentLine(
                organization_id=appointment.organization_id, appointment=appointment, service=s, quantity=q, price=p
            )
            for s, q, p in parsed
        ]
    )


def _conflict(appointment: Appointment) -> Appointment | None:
    """Another appointment holding the same professional or room at that time."""
    same_resource = Q()
    if appointment.professional_id:
        same_resource |= Q(professional_id=appointment.professional_id)
    if appointment.room_id:
        same_resource |= Q(room_id=appointment.room_id)
    if not same_resource:
        return None
    return (
        Appointment.objects.filter(same_resource, holds_slot=True, start__lt=appointment.end, end__gt=appointment.start)
        .exclude(pk=appointment.pk)
        .select_related("patient")
        .order_by("start")
        .first()
    )


def _double_booking(conflict: Appointment, clinic: Clinic) -> DoubleBooking:
    start = timezone.localtime(conflict.start, ZoneInfo(clinic.time_zone))
    return DoubleBooking(
        _("Already booked then: %(when)s, %(patient)s.")
        % {"patient": conflict.patient.full_name, "when": formats.date_format(start, "SHORT_DATETIME_FORMAT")},
        fields={"start": [_("This time is already taken.")], "conflict": [str(conflict.pk)]},
    )


class _Overlap(DoubleBooking):
    """The exclusion constraint refused the row, which aborts the use case's
    transaction: the appointment it overlaps is named once that is rolled
    back (`clinic.transactions.entry_point`)."""

    def __init__(self, appointment: Appointment, clinic: Clinic) -> None:
        super().__init__()
        self.appointment, self.clinic = appointment, clinic

    def after_rollback(self) -> None:
        conflict = _conflict(self.appointment)
        if conflict is not None:
            named = _double_booking(conflict, self.clinic)
            self.detail, self.fields, self.args = named.detail, named.fields, named.args


def _save_without_overlap(appointment: Appointment, clinic: Clinic) -> None:
    """Save, refusing a double booking. On PostgreSQL the exclusion
    constraints (migration scheduling 0002) decide, races included, with no
    savepoint: the refusal ends the use case, and names the conflict after
    the rollback. Elsewhere (SQLite, for `make run`) a query checks first."""
    if connection.vendor != "postgresql":
        conflict = _conflict(appointment)
        if conflict is not None:
            raise _double_booking(conflict, clinic)
    try:
        appointment.save()
    except IntegrityError as error:
        if "no_overlap" not in str(error):
            raise
        raise _Overlap(appointment, clinic) from error


def _warnings(appointment: Appointment) -> list[str]:
    warnings = []
    professional = appointment.professional
    if professional is not None and professional.clinic_id == appointment.clinic_id:
        professional.clinic = appointment.clinic  # the same row: no query for its time zone
    if professional is not None and not professional_is_working(professional, appointment.start, appointment.end):
        warnings.append(_("%(name)s does not work at this time.") % {"name": professional.name})
    return warnings


def _is_patients(package: PatientPackage | None, patient_id: int) -> bool:
    """A live package of the patient (read under its lock)."""
    return package is not None and package.patient_id == patient_id and package.deleted_at is None


def _not_patients_package() -> ValidationFailed:
    return ValidationFailed(fields={"patient_package": [_("Choose one of this patient's packages.")]})


def trigger_template(clinic: Clinic, lines: Sequence[LineInput]) -> PackageTemplate | None:
    """The template whose trigger service a booking of these lines books
    (S5), if any: that booking links the template's package, under the
    patient's lock (`lock(patient=...)`)."""
    service_ids = [line.service.pk for line in lines]
    return (
        catalog.visible_templates(clinic=clinic)
        .filter(trigger_service_id__in=service_ids, is_active=True)
        .order_by("pk")
        .first()
    )


def _chained_package(
    patient: Patient, clinic: Clinic, template: PackageTemplate, actor: User | None, locked: Locked
) -> PatientPackage:
    """Service chains (S5): the patient's active package of `template`, or a
    new one linked now. Runs under the patient's row lock (`lock(patient=)`):
    a second booking of the trigger service waits there and finds the
    package the first one linked."""
    if locked.patient != patient.pk:
        raise RuntimeError("a booking that may link a chained package needs the patient's lock")
    existing = (
        PatientPackage.objects.filter(
            patient=patient, template=template, status=PackageStatus.ACTIVE, deleted_at__isnull=True
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        locked.add_packages(lock_packages([existing]))
        package = locked.packages.get(existing)
        # Read again under its lock: deleted or deactivated meanwhile, it is
        # no longer the patient's active package, and a new one is linked.
        if package is not None and package.status == PackageStatus.ACTIVE and package.deleted_at is None:
            return package
    package = ledger.link(patient=patient, clinic=clinic, actor=actor, template=template)
    locked.add_packages({package.pk: package})
    return package


def book(
    *,
    clinic: Clinic,
    patient: Patient,
    start: dt.datetime,
    lines: Sequence[LineInput],
    actor: User | None,
    professional: Professional | None = None,
    room: Room | None = None,
    end: dt.datetime | None = None,
    status: str = BuiltinStatus.SCHEDULED,
    patient_package: PatientPackage | None = None,
    authorization: str = "",
    notes: str = "",
    series: AppointmentSeries | None = None,
    chain: bool = True,
    locked: Locked | None = None,
    reminder_hours: int | None = None,
    booked_online: bool = False,
    confirm_future: bool = True,
) -> Booking:
    """Step: book an appointment; linked to a package, it takes one of its
    sessions. `locked` is what the caller already holds (a series, the link
    of a package with its dates); otherwise the step takes its own locks.
    Booked with a debiting status more than a little ahead, it needs
    `confirm_future` (the page and the API pass what the user sent)."""
    _check_years(start=start, end=end)
    parsed = _lines(clinic, lines)
    if end is None:
        end = start + dt.timedelta(minutes=sum(s.duration_minutes * q for s, q, _p in parsed))
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("appointment times must be timezone-aware")
    errors: dict[str, list[str]] = {}
    if end <= start:
        errors["end"] = [_("The end must be after the start.")]
    if professional is not None and professional.clinic_id != clinic.pk:
        errors["professional"] = [_("Choose a professional of this clinic.")]
    if room is not None and room.clinic_id != clinic.pk:
        errors["room"] = [_("Choose a room of this clinic.")]
    if errors:
        raise ValidationFailed(fields=errors)
    status_row = status_for_code(status)
    if is_future_debit(start=start, status=status_row, confirm_future=confirm_future):
        raise future_session(start=start, status=status_row, clinic=clinic)

    template = trigger_template(clinic, lines) if patient_package is None and chain else None
    if locked is None:
        locked = lock(packages=[patient_package.pk if patient_package else None],
                      patient=patient.pk if template else None)  # fmt: skip
    if template is not None:
        patient_package = _chained_package(patient, clinic, template, actor, locked)
    package = None
    if patient_package is not None:
        # Checked under the lock: it may have been deleted meanwhile (or the
        # caller only knew its id: the API's `patient_package`).
        package = locked.packages.get(patient_package.pk)
        if not _is_patients(package, patient.pk):
            raise _not_patients_package()

    appointment = Appointment(
        organization_id=clinic.organization_id,
        clinic=clinic,
        patient=patient,
        professional=professional,
        room_id=room.pk if room else (package.room_id if package else None),
        start=start,
        end=end,
        patient_package=package,
        authorization=authorization.strip() or (package.authorization if package else ""),
        notes=notes.strip(),
        series=series,
        created_by=actor,
        reminder_hours=reminder_hours,
        booked_online=booked_online,
    )
    _take_status(appointment, status_row)
    _save_without_overlap(appointment, clinic)
    written = _write_lines(appointment, parsed)
    package_sessions.sync(
        appointment, locked=locked, status=status_row, actor=actor, lines=package_sessions.budget_lines(parsed)
    )
    events.charge_changed(ChargeEvent(appointment, locked, status_row, actor, lines=parsed, created=True))
    reminders.booked(appointment, status_row)
    return Booking(appointment, _warnings(appointment), written)


def booking_check(
    *,
    clinic: Clinic,
    start: dt.datetime | None,
    end: dt.datetime | None,
    lines: Sequence[LineInput] = (),
    professional: Professional | None = None,
    room: Room | None = None,
    appointment: Appointment | None = None,
) -> None:
    """The slot rules of `book` and `update` (the end after the start, the
    professional or room not already booked then) on what a form could
    parse, writing and locking nothing: the booking modal shows them with
    its own errors on the first submit. `book` checks again, under its locks,
    and the database's exclusion constraint decides a race."""
    if start is None:
        return
    try:
        _check_years(start=start, end=end)
    except ValidationFailed:
        return  # the form says what is wrong with the dates
    if end is None and lines:
        end = start + dt.timedelta(minutes=sum(line.service.duration_minutes * line.quantity for line in lines))
    if end is None:
        return
    if end <= start:
        raise ValidationFailed(fields={"end": [_("The end must be after the start.")]})
    probe = Appointment(clinic=clinic, professional=professional, room=room, start=start, end=end)
    if appointment is not None:
        probe.pk = appointment.pk
    conflict = _conflict(probe)
    if conflict is not None:
        raise _double_booking(conflict, clinic)


# Book an appointment: `book` as an entry point (its `locked` is for the
# entry points that compose bookings: a series, a package's dates).
appointment_book = entry_point(book)


# Changing an appointment


def _take_status(appointment: Appointment, status: AppointmentStatus) -> list[str]:
    """Give the appointment its status and what follows from it; returns the
    fields changed. A cancelled appointment frees its slot. A releasing
    status gives a payment from the package back (the session is credited),
    so booking the session again reserves it instead of debiting it again."""
    appointment.status = status.code
    appointment.holds_slot = status.code != BuiltinStatus.CANCELLED
    changed = ["status", "holds_slot"]
    if status.releases and appointment.paid_from_package:
        appointment.paid_from_package = False
        changed.append("paid_from_package")
    return changed


def _transition(appointment: Appointment, code: str) -> AppointmentStatus:
    """The one transition rule (cancelled is terminal) and the new status."""
    if appointment.status in TERMINAL and code != appointment.status:
        raise InvalidTransition(
            _("A cancelled appointment cannot change status: book a new one."),
            fields={"status": [_("Not allowed from “cancelled”.")]},
        )
    return status_for_code(code)


def update(
    appointment: Appointment,
    *,
    locked: Locked,
    actor: User | None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    professional: Professional | Keep | None = KEEP,
    room: Room | Keep | None = KEEP,
    lines: Sequence[LineInput] | None = None,
    patient_package: PatientPackage | Keep | None = KEEP,
    authorization: str | None = None,
    notes: str | None = None,
    status: str | None = None,
    reminder_hours: int | Keep | None = KEEP,
    confirm_future: bool = True,
) -> Booking:
    """Step: move, resize, edit and (with `status`) change the status of a
    locked appointment, with the same rules as booking (double booking,
    budget, a debiting status ahead of time). Arguments left out stay as they
    are."""
    _check_years(start=start, end=end)
    clinic = appointment.clinic
    errors: dict[str, list[str]] = {}
    if start is not None:
        duration = appointment.end - appointment.start
        appointment.start = start
        appointment.end = end or start + duration
    elif end is not None:
        appointment.end = end
    if appointment.end <= appointment.start:
        errors["end"] = [_("The end must be after the start.")]
    if not isinstance(professional, Keep):
        if professional is not None and professional.clinic_id != clinic.pk:
            errors["professional"] = [_("Choose a professional of this clinic.")]
        appointment.professional = professional
    if not isinstance(room, Keep):
        if room is not None and room.clinic_id != clinic.pk:
            errors["room"] = [_("Choose a room of this clinic.")]
        appointment.room = room
    if not isinstance(patient_package, Keep):
        if patient_package is not None:
            package = locked.packages.get(patient_package.pk)
            if not _is_patients(package, appointment.patient_id):
                errors |= _not_patients_package().fields
            patient_package = package
        if appointment.patient_package_id != (patient_package.pk if patient_package else None):
            appointment.patient_package = patient_package
            appointment.paid_from_package = False  # a payment from the old package does not follow the session
    if errors:
        raise ValidationFailed(fields=errors)
    if authorization is not None:
        appointment.authorization = authorization.strip()
    if notes is not None:
        appointment.notes = notes.strip()
    if not isinstance(reminder_hours, Keep):
        appointment.reminder_hours = reminder_hours
    parsed = _lines(clinic, lines) if lines is not None else None
    if status is not None and status != appointment.status:
        status_row = _transition(appointment, status)
        if is_future_debit(start=appointment.start, status=status_row, confirm_future=confirm_future):
            raise future_session(start=appointment.start, status=status_row, clinic=clinic)
    else:
        status_row = status_for_code(appointment.status, active_only=False)
    _take_status(appointment, status_row)
    _save_without_overlap(appointment, clinic)
    written = None
    if parsed is not None:
        AppointmentLine.objects.filter(appointment=appointment).delete()
        written = _write_lines(appointment, parsed)
    package_sessions.sync(
        appointment,
        locked=locked,
        status=status_row,
        actor=actor,
        lines=package_sessions.budget_lines(parsed) if parsed is not None else None,
    )
    events.charge_changed(ChargeEvent(appointment, locked, status_row, actor, lines=parsed))
    if (
        start is not None
        or status is not None
        or not isinstance(patient_package, Keep)
        or not isinstance(reminder_hours, Keep)
    ):
        reminders.sync(appointment, status_row)  # moved, its status or its lead time may have changed
    moved = start is not None or end is not None or not isinstance(professional, Keep)
    return Booking(appointment, _warnings(appointment) if moved else [], written)


@entry_point
def appointment_update(
    *,
    appointment: Appointment,
    actor: User | None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    professional: Professional | Keep | None = KEEP,
    room: Room | Keep | None = KEEP,
    lines: Sequence[LineInput] | None = None,
    patient_package: PatientPackage | Keep | None = KEEP,
    authorization: str | None = None,
    notes: str | None = None,
    status: str | None = None,
    reminder_hours: int | Keep | None = KEEP,
    confirm_future: bool = True,
) -> Booking:
    """Move, resize or edit an appointment and, with `status`, change its
    status too, all or nothing. Arguments left out stay as they are. A
    debiting status for a session still ahead needs `confirm_future`."""
    target = patient_package.pk if isinstance(patient_package, PatientPackage) else None
    locked = lock(appointments=[appointment.pk], packages=[target])
    current = locked.appointment(appointment.pk)
    kept = (professional, room, patient_package, reminder_hours)
    if all(isinstance(value, Keep) for value in kept) and (start, end, lines, authorization, notes) == (None,) * 5:
        # Only a status change (the API's PATCH {"status": ...}): the transition alone.
        if status is not None:
            set_status(current, locked=locked, status=status, actor=actor, confirm_future=confirm_future)
        return Booking(current, [])
    return update(
        current, locked=locked, actor=actor, start=start, end=end, professional=professional, room=room,
        lines=lines, patient_package=patient_package, authorization=authorization, notes=notes, status=status,
        reminder_hours=reminder_hours, confirm_future=confirm_future,
    )  # fmt: skip


def set_status(
    appointment: Appointment, *, locked: Locked, status: str, actor: User | None, confirm_future: bool = True
) -> Appointment:
    """Step: move a locked appointment to `status` and let its package follow
    (K8). A debiting status for a session still ahead needs `confirm_future`
    (checked here, on the row read under its lock)."""
    if status == appointment.status:
        return appointment
    released_before = status_for_code(appointment.status, active_only=False).releases
    status_row = _transition(appointment, status)
    if is_future_debit(start=appointment.start, status=status_row, confirm_future=confirm_future):
        raise future_session(start=appointment.start, status=status_row, clinic=appointment.clinic)
    appointment.save(update_fields=_take_status(appointment, status_row))
    package_sessions.sync(appointment, locked=locked, status=status_row, actor=actor)
    if status_row.releases != released_before:
        # Attending or confirming owes what booking did: only a release (or
        # its undoing) changes the charge.
        events.charge_changed(ChargeEvent(appointment, locked, status_row, actor))
    reminders.sync(appointment, status_row)
    return appointment


@entry_point
def appointment_set_status(
    *, appointment: Appointment, status: str, actor: User | None, confirm_future: bool = True
) -> Appointment:
    """The one transition function: move the appointment to `status` and let
    its package follow (K8). The page and the API pass `confirm_future` as
    the user sent it: marking a session attended days ahead is asked first."""
    locked = lock(appointments=[appointment.pk])
    return set_status(
        locked.appointment(appointment.pk), locked=locked, status=status, actor=actor, confirm_future=confirm_future
    )


@entry_point
def appointment_delete(*, appointment: Appointment, actor: User | None) -> None:
    """Delete an appointment; its package session is released (credited back
    when it had been debited). The ledger keeps the session's id."""
    locked = lock(appointments=[appointment.pk])
    current = locked.appointment(appointment.pk)
    package_sessions.unlink(current, locked=locked, actor=actor)
    status_row = status_for_code(current.status, active_only=False)
    events.charge_changed(ChargeEvent(current, locked, status_row, actor, deleted=True))
    current.delete()


@entry_point
def evolution_note_add(*, appointment: Appointment, author: User, text: str) -> EvolutionNote:
    """A professional's note on a session; the first note marks it attended (A8)."""
    text = text.strip()
    if not text:
        raise ValidationFailed(fields={"text": [_("Write the note.")]})
    locked = lock(appointments=[appointment.pk])
    current = locked.appointment(appointment.pk)
    first = not EvolutionNote.objects.filter(appointment=current).exists()
    note = EvolutionNote.objects.create(
        organization_id=current.organization_id, appointment=current, author=author, text=text
    )
    if first and current.status not in (BuiltinStatus.ATTENDED, *TERMINAL):
        set_status(current, locked=locked, status=BuiltinStatus.ATTENDED, actor=author)
    return note


# Paying a session from its package (K8; billing's "pay from the package" builds on it)


def _pay_target(appointment: Appointment, package: PatientPackage | None) -> None:
    if package is not None and package.patient_id != appointment.patient_id:
        raise ValidationFailed(fields={"appointment": [_("This appointment is another patient's.")]})
    if package is None or not _is_patients(package, appointment.patient_id):
        raise _not_patients_package()
    if appointment.patient_package_id not in (None, package.pk):
        raise AppointmentHasOtherPackage()


def pay_from_package(appointment: Appointment, package: PatientPackage, *, locked: Locked, actor: User | None
                     ) -> Appointment:  # fmt: skip
    """Step: pay a locked appointment's session from a locked package: the
    appointment is linked to it if it was not, and its session is debited and
    stays debited whatever its status until a releasing status gives it back
    (idempotent)."""
    target = locked.packages.get(package.pk)
    _pay_target(appointment, target)
    status_row = status_for_code(appointment.status, active_only=False)
    if status_row.releases:
        raise InvalidTransition(
            _("This appointment is “%(status)s”: it holds no session to pay.") % {"status": status_row.display_name},
            fields={"appointment": [_("Pay only booked or attended sessions.")]},
        )
    if appointment.paid_from_package and appointment.patient_package_id == package.pk:
        return appointment
    appointment.patient_package, appointment.paid_from_package = target, True
    appointment.save(update_fields=["patient_package", "paid_from_package"])
    package_sessions.sync(appointment, locked=locked, status=status_row, actor=actor)
    events.charge_changed(ChargeEvent(appointment, locked, status_row, actor))
    return appointment


@entry_point
def appointment_pay_from_package(
    *, appointment: Appointment, package: PatientPackage, actor: User | None
) -> Appointment:
    """`pay_from_package` as an entry point (the API's debit, without a payment)."""
    locked = lock(appointments=[appointment.pk], packages=[package.pk])
    return pay_from_package(locked.appointment(appointment.pk), package, locked=locked, actor=actor)


@entry_point
def appointment_unpay_from_package(
    *, appointment: Appointment, package: PatientPackage, actor: User | None
) -> Appointment:
    """Undo a payment from the package: the session is credited back and stays
    booked (idempotent). An attended session stays debited: its status says
    it was used, so the status is what to change."""
    locked = lock(appointments=[appointment.pk], packages=[package.pk])
    current = locked.appointment(appointment.pk)
    _pay_target(current, locked.packages.get(package.pk))
    if current.patient_package_id != package.pk:
        return current
    status_row = status_for_code(current.status, active_only=False)
    if status_row.debits:
        raise SessionAttended()
    if not current.paid_from_package:
        return current
    current.paid_from_package = False
    current.save(update_fields=["paid_from_package"])
    package_sessions.sync(current, locked=locked, status=status_row, actor=actor)
    events.charge_changed(ChargeEvent(current, locked, status_row, actor))
    return current


# Deleting a package (K4): its bookings are released, so it is scheduling's use case.


@entry_point
def patient_package_delete(*, package: PatientPackage, actor: User | None) -> PatientPackage:
    """Delete a package none of whose sessions was ever debited: its
    appointments are unlinked (they stay booked, to be paid per session),
    their sessions released, and the package hidden; its ledger stays. A
    package with debits can only be deactivated."""
    linked = set(Appointment.objects.filter(patient_package_id=package.pk).values_list("pk", flat=True))
    locked = lock(appointments=linked, packages=[package.pk], sales=[package.pk])
    current = locked.packages.get(package.pk)
    if current is None or current.deleted_at is not None:
        raise NotFound(_("Package not found."))
    # A booking may have joined the package while this waited for the locks:
    # start again with it among the appointments to lock first.
    if not set(Appointment.objects.filter(patient_package_id=package.pk).values_list("pk", flat=True)) <= linked:
        raise Retry()
    if ledger.was_debited(current):
        raise PackageDebited()
    for appointment in locked.appointments.values():
        if appointment.patient_package_id != package.pk:
            continue  # moved to another package while this waited: no longer this one's
        package_sessions.unlink(appointment, locked=locked, actor=actor)
        appointment.patient_package, appointment.paid_from_package = None, False
        appointment.save(update_fields=["patient_package", "paid_from_package"])
        status_row = status_for_code(appointment.status, active_only=False)
        events.charge_changed(ChargeEvent(appointment, locked, status_row, actor))
        reminders.sync(appointment, status_row)  # the package's lead time no longer applies
    return ledger.mark_deleted(current, actor=actor)
