"""Recurring sessions (A3) and the multi-date booking of a package link (K2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic.errors import ApplicationError, Conflict, ValidationFailed
from clinic.models import Clinic, Professional, Room, User
from clinic.transactions import Retry, entry_point
from clinic.unset import KEEP, Keep
from packages.catalog.models import PackageTemplate
from packages.catalog.selectors import service_for_clinic
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from patients.models import Patient
from scheduling import services
from scheduling.locks import Locked, lock
from scheduling.models import Appointment, AppointmentSeries

MAX_OCCURRENCES = 200


@dataclass(frozen=True)
class Recurrence:
    """Every `interval` weeks on `weekdays` (0 = Monday; default: the first
    session's weekday), until a date or for `count` sessions."""

    first: dt.datetime
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    until: dt.date | None = None
    count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "first": self.first.isoformat(),
            "interval": self.interval,
            "weekdays": list(self.weekdays),
            "until": self.until.isoformat() if self.until else None,
            "count": self.count,
        }


def occurrences(rule: Recurrence, tz: ZoneInfo) -> list[dt.datetime]:
    """The sessions' start times. The wall-clock time stays the same across a
    daylight-saving change: 09:00 is 09:00 in the clinic on both sides."""
    if rule.interval < 1:
        raise ValidationFailed(fields={"interval": [_("Repeat every 1 week or more.")]})
    if rule.until is None and rule.count is None:
        raise ValidationFailed(fields={"until": [_("Say until when, or how many sessions.")]})
    if rule.count is not None and not 1 <= rule.count <= MAX_OCCURRENCES:
        raise ValidationFailed(fields={"count": [_("Between 1 and %(max)s sessions.") % {"max": MAX_OCCURRENCES}]})
    local = rule.first.astimezone(tz)
    weekdays = sorted(set(rule.weekdays or (local.weekday(),)))
    if any(not 0 <= day <= 6 for day in weekdays):
        raise ValidationFailed(fields={"weekdays": [_("Weekdays go from 0 (Monday) to 6 (Sunday).")]})
    monday = local.date() - dt.timedelta(days=local.weekday())
    result: list[dt.datetime] = []
    week = 0
    while len(result) < (rule.count or MAX_OCCURRENCES):
        for weekday in weekdays:
            day = monday + dt.timedelta(weeks=week * rule.interval, days=weekday)
            if day < local.date():
                continue
            if rule.until is not None and day > rule.until:
                return result
            result.append(dt.datetime.combine(day, local.time(), tzinfo=tz))
            if len(result) == (rule.count or MAX_OCCURRENCES):
                return result
        week += 1
    return result


@dataclass
class Preview:
    start: dt.datetime
    conflict: Appointment | None


def series_preview(
    *, rule: Recurrence, clinic: Clinic, duration: dt.timedelta, professional: Professional | None, room: Room | None
) -> list[Preview]:
    """Each occurrence with the appointment it would collide with, to list
    conflicts before saving."""
    previews = []
    for start in occurrences(rule, ZoneInfo(clinic.time_zone)):
        probe = Appointment(professional=professional, room=room, start=start, end=start + duration)
        previews.append(Preview(start, services._conflict(probe)))
    return previews


@dataclass
class RowError:
    row: int
    message: str


@dataclass
class BatchResult:
    bookings: list[services.Booking] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _each_row(count: int, step: Any) -> tuple[list[Any], list[RowError]]:
    """Run `step(i)` for each row in its own savepoint, collecting every
    failure, so the caller can mark all failing rows before rolling the whole
    batch back. Only application errors are collected: a lost race (a
    deadlock) ends the batch, and the entry point runs it again."""
    done, errors = [], []
    for index in range(count):
        try:
            with transaction.atomic():
                done.append(step(index))
        except ApplicationError as error:
            error.after_rollback()  # the row's savepoint is rolled back: it may name what it collided with
            errors.append(RowError(index, error.summary))
    return done, errors


def _raise_rows(errors: list[RowError]) -> None:
    raise ValidationFailed(
        ngettext(
            "Nothing was saved: %(count)s of the dates cannot be booked.",
            "Nothing was saved: %(count)s of the dates cannot be booked.",
            len(errors),
        )
        % {"count": len(errors)},
        code="rows_invalid",
        fields={f"rows.{e.row}": [e.message] for e in errors},
    )


def _book_rows(rows: Sequence[dict[str, Any]], *, locked: Locked, **common: Any) -> BatchResult:
    bookings, errors = _each_row(len(rows), lambda i: services.book(**common, **rows[i], locked=locked))
    return BatchResult(bookings, errors)


@entry_point
def appointment_book_series(
    *,
    rule: Recurrence,
    clinic: Clinic,
    patient: Patient,
    lines: Sequence[services.LineInput],
    actor: User | None,
    professional: Professional | None = None,
    room: Room | None = None,
    duration: dt.timedelta | None = None,
    patient_package: PatientPackage | None = None,
    skip_conflicts: bool = False,
) -> list[services.Booking]:
    """Book a recurring series. All or nothing, unless `skip_conflicts` leaves
    out the dates that collide (after the user saw them in the preview)."""
    starts = occurrences(rule, ZoneInfo(clinic.time_zone))
    # A series of a trigger service links one chained package: the patient's lock first.
    chain = patient_package is None and services.trigger_template(clinic, lines) is not None
    locked = lock(packages=[patient_package.pk if patient_package else None], patient=patient.pk if chain else None)
    series = AppointmentSeries.objects.create(organization_id=clinic.organization_id, rule=rule.as_dict())
    rows = [{"start": start} if duration is None else {"start": start, "end": start + duration} for start in starts]
    result = _book_rows(
        rows, locked=locked, clinic=clinic, patient=patient, lines=lines, actor=actor, professional=professional,
        room=room, patient_package=patient_package, series=series,
    )  # fmt: skip
    if result.errors and not skip_conflicts:
        _raise_rows(result.errors)
    return result.bookings


def _following(anchor: Appointment) -> list[int]:
    """This occurrence and the later ones of its series that are not cancelled."""
    return list(
        Appointment.objects.filter(series_id=anchor.series_id, start__gte=anchor.start)
        .exclude(status="cancelled")
        .order_by("start")
        .values_list("pk", flat=True)
    )


@entry_point
def appointment_update_following(
    *,
    appointment: Appointment,
    actor: User | None,
    time: dt.time | None = None,
    professional: Professional | Keep | None = KEEP,
    room: Room | Keep | None = KEEP,
    this: dict[str, Any] | None = None,
) -> list[services.Booking]:
    """Change this occurrence and the following ones of its series: a new time
    of day (each keeps its date and its duration), professional or room (A3).
    `this` holds further changes for this occurrence only (`services.update`'s
    arguments: a new duration, lines, package...), made in the same
    transaction: all or nothing. Returns this occurrence's booking first."""
    if appointment.series_id is None:
        raise Conflict(_("This appointment is not part of a series."), code="not_a_series")
    this = dict(this or {})
    target = this.get("patient_package")
    following = _following(appointment)
    locked = lock(appointments=[appointment.pk, *following],
                  packages=[target.pk if isinstance(target, PatientPackage) else None])  # fmt: skip
    anchor = locked.appointment(appointment.pk)  # deleted meanwhile: 409
    # The series may have changed while this waited (an occurrence moved in or
    # out of the range, one was cancelled): start again with what it is now.
    if set(_following(anchor)) - set(locked.appointments):
        raise Retry()
    tz = ZoneInfo(anchor.clinic.time_zone)
    ordered = [anchor, *sorted(
        (occurrence for pk, occurrence in locked.appointments.items()
         if pk != anchor.pk and occurrence.series_id == anchor.series_id and occurrence.start >= anchor.start
         and occurrence.status != "cancelled"),
        key=lambda occurrence: occurrence.start,
    )]  # fmt: skip

    def change(index: int) -> services.Booking:
        occurrence = ordered[index]
        changes: dict[str, Any] = dict(this) if occurrence is anchor else {}
        if time is not None:
            # Each keeps its date and duration; this occurrence its new one, if `this` gives it.
            begins, ends = changes.get("start") or occurrence.start, changes.get("end") or occurrence.end
            local = begins.astimezone(tz)
            start = dt.datetime.combine(local.date(), time, tzinfo=tz)
            changes |= {"start": start, "end": start + (ends - begins)}
        if not isinstance(professional, Keep):
            changes["professional"] = professional
        if not isinstance(room, Keep):
            changes["room"] = room
        return services.update(occurrence, locked=locked, actor=actor, **changes)

    changed, errors = _each_row(len(ordered), change)
    if errors:
        _raise_rows(errors)
    return changed


@dataclass(frozen=True)
class LinkRow:
    """One picked date of a package link: time, professional, status (K2)."""

    start: dt.datetime
    professional: Professional | None = None
    status: str = "scheduled"
    room: Room | None = None


@entry_point
def package_link_with_dates(
    *,
    patient: Patient,
    clinic: Clinic,
    actor: User | None,
    rows: Sequence[LinkRow],
    service_id: int | None = None,
    template: PackageTemplate | None = None,
    sessions: int | None = None,
    total_price: Decimal | None = None,
    **link: Any,
) -> tuple[PatientPackage, list[services.Booking]]:
    """Link a package and book all its picked dates in one transaction: if any
    row fails (double booking, budget), nothing is saved and every failing row
    is named (`rows.<index>`)."""
    package = ledger.link(
        patient=patient, clinic=clinic, actor=actor, template=template, sessions=sessions, total_price=total_price,
        **link,
    )  # fmt: skip
    item = package.session_item
    service_id = service_id or (item["service"] if item else None)
    if service_id is None:
        raise ValidationFailed(fields={"service": [_("Choose the service of the sessions.")]})
    service = service_for_clinic(clinic=clinic, service_id=service_id)
    result = _book_rows(
        [
            {"start": row.start, "professional": row.professional, "status": row.status,
             "room": row.room or package.room}
            for row in rows
        ],
        locked=Locked(packages={package.pk: package}), clinic=clinic, patient=patient,
        lines=[services.LineInput(service)], actor=actor, patient_package=package, chain=False,
    )  # fmt: skip
    if result.errors:
        _raise_rows(result.errors)
    return package, result.bookings
