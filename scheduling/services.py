"""Every write on appointments: booking, moving, status transitions, deletion,
evolution notes, recurring series and the multi-date booking of a package link.

Appointments linked to a patient package keep the package's unit in the state
their status asks for (`_sync_package`): a debiting status debits it, a
releasing status releases it, any other status keeps it reserved. All package
effects go through `packages.ledger`, so toggling statuses back and forth
never debits twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from clinic.errors import ValidationFailed, full_clean
from clinic.models import Clinic, Organization, Professional, Room, User
from clinic.selectors import professional_is_working
from clinic.unset import KEEP, Keep
from packages import ledger
from packages import selectors as catalog
from packages.budget import BudgetCheck
from packages.errors import PackageInactive
from packages.models import PackageStatus, PackageUsage, PatientPackage, Service, UsageState
from patients.models import Patient
from scheduling import selectors
from scheduling.errors import DoubleBooking, InvalidTransition
from scheduling.models import (
    Appointment,
    AppointmentLine,
    AppointmentSeries,
    AppointmentStatus,
    BuiltinStatus,
    EvolutionNote,
)

# Built-in statuses: code -> (colour, debits, releases, position) (A2, K8).
BUILTIN_STATUSES = {
    BuiltinStatus.SCHEDULED: ("#0d6efd", False, False, 10),
    BuiltinStatus.CONFIRMED: ("#0891b2", False, False, 20),
    BuiltinStatus.ATTENDED: ("#16a34a", True, False, 30),
    BuiltinStatus.MISSED: ("#dc2626", False, False, 40),
    BuiltinStatus.JUSTIFIED_ABSENCE: ("#d97706", False, True, 50),
    BuiltinStatus.CANCELLED: ("#6b7280", False, True, 60),
}
# The transition table: a cancelled appointment is over; everything else can
# move to any status (clinics correct a wrongly marked session all the time).
TERMINAL = {BuiltinStatus.CANCELLED}


def statuses_ensure_builtin(organization_id: int) -> None:
    """Give the organization the six built-in statuses (idempotent, race-free)."""
    AppointmentStatus.objects.bulk_create(
        [
            AppointmentStatus(
                organization_id=organization_id,
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


def status_for_code(organization_id: int, code: str) -> AppointmentStatus:
    statuses_ensure_builtin(organization_id)
    status = AppointmentStatus.objects.filter(code=code, is_active=True).first()
    if status is None:
        raise ValidationFailed(fields={"status": [_("Unknown status “%(code)s”.") % {"code": code}]})
    return status


@transaction.atomic
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
    statuses_ensure_builtin(organization.pk)
    if status is None:
        status = AppointmentStatus(organization=organization, code=code.strip())
    elif status.is_builtin:
        status.color = color
        status.save()
        return status
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
    budget: BudgetCheck | None


def _lines(clinic: Clinic, lines: Sequence[LineInput]) -> list[tuple[Service, int, Decimal]]:
    visible = set(catalog.visible_services(clinic=clinic).values_list("pk", flat=True))
    errors: list[str] = []
    result = []
    for line in lines:
        if line.service.pk not in visible:
            errors.append(_("Unknown service."))
        elif line.quantity < 1:
            errors.append(_("The quantity must be at least 1."))
        else:
            price = line.service.price if line.price is None else line.price
            if price < 0:
                errors.append(_("The price cannot be negative."))
            result.append((line.service, line.quantity, price))
    if errors:
        raise ValidationFailed(fields={"services": errors})
    return result


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
        _("Already booked: %(patient)s, %(when)s (appointment %(id)s).")
        % {
            "patient": conflict.patient.full_name,
            "when": formats.date_format(start, "SHORT_DATETIME_FORMAT"),
            "id": conflict.pk,
        },
        fields={"start": [_("This time is already taken.")], "conflict": [str(conflict.pk)]},
    )


def _save_without_overlap(appointment: Appointment, clinic: Clinic) -> None:
    conflict = _conflict(appointment)
    if conflict is not None:
        raise _double_booking(conflict, clinic)
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        # Two bookings of the same slot at once: the exclusion constraint decided.
        if "no_overlap" not in str(error):
            raise
        conflict = _conflict(appointment)
        raise _double_booking(conflict, clinic) if conflict else DoubleBooking() from error


def _warnings(appointment: Appointment) -> list[str]:
    warnings = []
    professional = appointment.professional
    if professional is not None and not professional_is_working(professional, appointment.start, appointment.end):
        warnings.append(_("%(name)s does not work at this time.") % {"name": professional.name})
    return warnings


def _check_package(package: PatientPackage, patient: Patient, lines: Sequence[tuple[Service, int, Decimal]],
                   when: dt.datetime, appointment: Appointment | None = None) -> BudgetCheck:  # fmt: skip
    if package.patient_id != patient.pk or package.deleted_at is not None:
        raise ValidationFailed(fields={"patient_package": [_("Choose one of this patient's packages.")]})
    if package.status != PackageStatus.ACTIVE:
        raise PackageInactive()
    check = selectors.package_budget_check(package, lines, when=when, appointment=appointment)
    check.raise_if_exceeded()
    return check


def _sync_package(appointment: Appointment, actor: User | None) -> None:
    """Put the appointment's package unit in the state its status asks for."""
    usage = PackageUsage.objects.filter(
        appointment=appointment, state__in=[UsageState.RESERVED, UsageState.DEBITED]
    ).first()
    package = appointment.patient_package
    if usage is not None and (package is None or usage.package_id != package.pk):
        ledger.package_release(appointment=appointment, actor=actor)  # unlinked, or moved to another package
        usage = None
    if package is None:
        return
    status = status_for_code(appointment.organization_id, appointment.status)
    if status.releases:
        if usage is not None:
            ledger.package_release(appointment=appointment, actor=actor)
    elif status.debits:
        ledger.package_debit(package=package, appointment=appointment, actor=actor)
    elif usage is None:
        ledger.package_reserve(package=package, appointment=appointment, actor=actor)
    elif usage.state == UsageState.DEBITED:
        ledger.package_credit(package=package, appointment=appointment, actor=actor)


def _chain_package(patient: Patient, clinic: Clinic, lines: Sequence[tuple[Service, int, Decimal]],
                   actor: User | None) -> PatientPackage | None:  # fmt: skip
    """Service chains (S5): booking a template's trigger service links that
    template's package, unless the patient already has it active."""
    service_ids = [service.pk for service, _quantity, _price in lines]
    template = (
        catalog.visible_templates(clinic=clinic)
        .filter(trigger_service_id__in=service_ids, is_active=True)
        .order_by("pk")
        .first()
    )
    if template is None:
        return None
    existing = PatientPackage.objects.filter(
        patient=patient, template=template, status=PackageStatus.ACTIVE, deleted_at__isnull=True
    ).first()
    return existing or ledger.package_link(patient=patient, clinic=clinic, actor=actor, template=template)


@transaction.atomic
def appointment_book(
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
) -> Booking:
    """Book an appointment; linked to a package, it reserves one of its sessions."""
    if not lines:
        raise ValidationFailed(fields={"services": [_("Choose at least one service.")]})
    parsed = _lines(clinic, lines)
    if end is None:
        end = start + dt.timedelta(minutes=sum(s.duration_minutes * q for s, q, _p in parsed))
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("appointment times must be timezone-aware")
    if end <= start:
        errors["end"] = [_("The end must be after the start.")]
    if professional is not None and professional.clinic_id != clinic.pk:
        errors["professional"] = [_("Choose a professional of this clinic.")]
    if room is not None and room.clinic_id != clinic.pk:
        errors["room"] = [_("Choose a room of this clinic.")]
    if errors:
        raise ValidationFailed(fields=errors)
    status_for_code(clinic.organization_id, status)
    if patient_package is None and chain:
        patient_package = _chain_package(patient, clinic, parsed, actor)
    budget = _check_package(patient_package, patient, parsed, start) if patient_package else None

    appointment = Appointment(
        organization_id=clinic.organization_id,
        clinic=clinic,
        patient=patient,
        professional=professional,
        room=room or (patient_package.room if patient_package else None),
        start=start,
        end=end,
        status=status,
        holds_slot=status != BuiltinStatus.CANCELLED,
        patient_package=patient_package,
        authorization=authorization.strip() or (patient_package.authorization if patient_package else ""),
        notes=notes.strip(),
        series=series,
        created_by=actor,
    )
    _save_without_overlap(appointment, clinic)
    AppointmentLine.objects.bulk_create(
        [
            AppointmentLine(
                organization_id=clinic.organization_id, appointment=appointment, service=s, quantity=q, price=p
            )
            for s, q, p in parsed
        ]
    )
    _sync_package(appointment, actor)
    return Booking(appointment, _warnings(appointment), budget)


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("clinic", "patient_package")
        .get(pk=appointment.pk)
    )


@transaction.atomic
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
) -> Booking:
    """Move, resize or edit an appointment, with the same rules as booking
    (double booking, budget). Arguments left out stay as they are."""
    appointment = _lock(appointment)
    clinic = appointment.clinic
    if start is not None:
        duration = appointment.end - appointment.start
        appointment.start = start
        appointment.end = end or start + duration
    elif end is not None:
        appointment.end = end
    if appointment.end <= appointment.start:
        raise ValidationFailed(fields={"end": [_("The end must be after the start.")]})
    if not isinstance(professional, Keep):
        if professional is not None and professional.clinic_id != clinic.pk:
            raise ValidationFailed(fields={"professional": [_("Choose a professional of this clinic.")]})
        appointment.professional = professional
    if not isinstance(room, Keep):
        if room is not None and room.clinic_id != clinic.pk:
            raise ValidationFailed(fields={"room": [_("Choose a room of this clinic.")]})
        appointment.room = room
    if authorization is not None:
        appointment.authorization = authorization.strip()
    if notes is not None:
        appointment.notes = notes.strip()
    if not isinstance(patient_package, Keep):
        appointment.patient_package = patient_package
    parsed = (
        _lines(clinic, lines)
        if lines is not None
        else [(line.service, line.quantity, line.price) for line in appointment.lines.select_related("service")]
    )
    if not parsed:
        raise ValidationFailed(fields={"services": [_("Choose at least one service.")]})
    budget = None
    if appointment.patient_package is not None:
        budget = _check_package(
            appointment.patient_package, appointment.patient, parsed, appointment.start, appointment
        )
    _save_without_overlap(appointment, clinic)
    if lines is not None:
        AppointmentLine.objects.filter(appointment=appointment).delete()
        AppointmentLine.objects.bulk_create(
            [
                AppointmentLine(
                    organization_id=clinic.organization_id, appointment=appointment, service=s, quantity=q, price=p
                )
                for s, q, p in parsed
            ]
        )
    _sync_package(appointment, actor)
    return Booking(appointment, _warnings(appointment), budget)


@transaction.atomic
def appointment_set_status(*, appointment: Appointment, status: str, actor: User | None) -> Appointment:
    """The one transition function: move the appointment to `status` and let
    its package follow (K8)."""
    appointment = _lock(appointment)
    if status == appointment.status:
        return appointment
    if appointment.status in TERMINAL:
        raise InvalidTransition(
            _("A cancelled appointment cannot change status: book a new one."),
            fields={"status": [_("Not allowed from “cancelled”.")]},
        )
    status_for_code(appointment.organization_id, status)
    appointment.status = status
    appointment.holds_slot = status != BuiltinStatus.CANCELLED
    appointment.save(update_fields=["status", "holds_slot"])
    _sync_package(appointment, actor)
    return appointment


@transaction.atomic
def appointment_delete(*, appointment: Appointment, actor: User | None) -> None:
    """Delete an appointment; its package session is released (credited back
    when it had been debited). The ledger keeps the appointment's id."""
    appointment = _lock(appointment)
    ledger.package_release(appointment=appointment, actor=actor)
    PackageUsage.objects.filter(appointment=appointment).delete()
    appointment.delete()


@transaction.atomic
def evolution_note_add(*, appointment: Appointment, author: User, text: str) -> EvolutionNote:
    """A professional's note on a session; the first note marks it attended (A8)."""
    text = text.strip()
    if not text:
        raise ValidationFailed(fields={"text": [_("Write the note.")]})
    appointment = _lock(appointment)
    first = not EvolutionNote.objects.filter(appointment=appointment).exists()
    note = EvolutionNote.objects.create(
        organization_id=appointment.organization_id, appointment=appointment, author=author, text=text
    )
    if first and appointment.status != BuiltinStatus.ATTENDED:
        appointment_set_status(appointment=appointment, status=BuiltinStatus.ATTENDED, actor=author)
    return note
