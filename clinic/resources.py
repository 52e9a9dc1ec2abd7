"""Writes on the bookable resources of a clinic: professionals (with their
weekly working hours) and rooms. Pages, the API, the demo and the admin all go
through these functions."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from clinic.errors import ApplicationError, ValidationFailed
from clinic.models import Clinic, Membership, Professional, Room, User, Weekday, WorkingHours
from clinic.unset import KEEP, Keep

COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOR = "#0f766e"


@dataclass(frozen=True)
class WorkingInterval:
    """One interval of a weekly schedule, in the clinic's local time."""

    weekday: int
    starts_at: dt.time
    ends_at: dt.time


def _hhmm(moment: dt.time) -> str:
    return moment.strftime("%H:%M")


def _span(interval: WorkingInterval) -> str:
    return f"{_hhmm(interval.starts_at)}\N{EN DASH}{_hhmm(interval.ends_at)}"


def _weekday_label(weekday: int) -> str:
    return str(Weekday(weekday).label) if weekday in Weekday.values else str(weekday)


def _django_errors(instance: models.Model, *, exclude: Sequence[str] = (), **kwargs: Any) -> dict[str, list[str]]:
    """`full_clean` as a dict of messages per field (empty when valid)."""
    try:
        instance.full_clean(exclude=list(exclude), **kwargs)
    except DjangoValidationError as error:
        return ApplicationError.from_django(error).fields or {"non_field_errors": error.messages}
    return {}


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(fields=errors)


def working_hours_errors(intervals: Sequence[WorkingInterval]) -> list[str]:
    """What is wrong with a weekly schedule: an unknown weekday, an interval
    that ends before it starts, two intervals of one day that overlap."""
    messages: list[str] = []
    by_day: dict[int, list[WorkingInterval]] = defaultdict(list)
    for interval in intervals:
        if interval.weekday not in Weekday.values:
            messages.append(
                _("“%(weekday)s” is not a weekday (0 is Monday, 6 is Sunday).") % {"weekday": interval.weekday}
            )
        elif interval.starts_at >= interval.ends_at:
            messages.append(
                _("%(weekday)s: the start (%(start)s) must be before the end (%(end)s).")
                % {
                    "weekday": _weekday_label(interval.weekday),
                    "start": _hhmm(interval.starts_at),
                    "end": _hhmm(interval.ends_at),
                }
            )
        else:
            by_day[interval.weekday].append(interval)
    for weekday in sorted(by_day):
        day = sorted(by_day[weekday], key=lambda i: (i.starts_at, i.ends_at))
        # Compare with the interval reaching furthest so far, not just the
        # previous one: 08:00-12:00 overlaps 11:00-13:00 even with 09:00-10:00 between.
        reach = day[0]
        for current in day[1:]:
            # Touching intervals (08:00-12:00, 12:00-18:00) are fine.
            if current.starts_at < reach.ends_at:
                messages.append(
                    _("%(weekday)s: %(first)s overlaps %(second)s.")
                    % {"weekday": _weekday_label(weekday), "first": _span(reach), "second": _span(current)}
                )
            if current.ends_at > reach.ends_at:
                reach = current
    return messages


def _user_errors(professional: Professional) -> list[str]:
    user = professional.user
    if user is None:
        return []
    # One message for "another organization" and "not in this clinic": a
    # refusal must not tell an outsider that a user id exists elsewhere.
    not_here = [_("Choose a user who works in this clinic.")]
    if user.organization_id != professional.clinic.organization_id:
        return not_here
    if not Membership.objects.filter(user=user, clinic=professional.clinic).exists():
        return not_here
    taken = Professional.objects.filter(clinic=professional.clinic, user=user).exclude(pk=professional.pk)
    if taken.exists():
        return [_("This user already has a professional profile in this clinic.")]
    return []


def _validate_professional(
    professional: Professional, *, check_user: bool, working_hours: Sequence[WorkingInterval] | None
) -> None:
    errors: dict[str, list[str]] = {}
    if professional.clinic.organization_id != professional.organization_id:
        errors["clinic"] = [_("Choose a clinic of this organization.")]
    if not COLOR_PATTERN.match(professional.color or ""):
        errors["color"] = [_("Use a colour like #0f766e.")]
    if check_user and (user_errors := _user_errors(professional)):
        errors["user"] = user_errors
    if working_hours is not None and (hours_errors := working_hours_errors(working_hours)):
        errors["working_hours"] = hours_errors
    # Constraints are checked above with messages on their fields, and by the
    # database on save (a race between two saves).
    for name, messages in _django_errors(professional, exclude=list(errors), validate_constraints=False).items():
        errors.setdefault(name, []).extend(messages)
    _raise_if(errors)


def professional_check(*, clinic: Clinic, data: Mapping[str, Any], professional: Professional | None = None) -> None:
    """The rules `professional_create` / `professional_update` apply (the
    colour, the linked login, the week's hours...) on what a page parsed,
    writing nothing: the page shows them with its fields' own errors."""
    probe = copy.copy(professional) if professional is not None else Professional(
        organization_id=clinic.organization_id, clinic=clinic, color=DEFAULT_COLOR
    )  # fmt: skip
    given = [name for name in ("name", "specialty", "color") if name in data]
    for name in given:
        setattr(
            probe, name, str(data[name] or "").strip().lower() if name == "color" else str(data[name] or "").strip()
        )
    check_user = "user" in data and (data["user"].pk if data["user"] else None) != probe.user_id
    if check_user:
        probe.user = data["user"]
    errors: dict[str, list[str]] = {}
    if "color" in given and not COLOR_PATTERN.match(probe.color or ""):
        errors["color"] = [_("Use a colour like #0f766e.")]
    if check_user and (user_errors := _user_errors(probe)):
        errors["user"] = user_errors
    if "working_hours" in data and (hours_errors := working_hours_errors(data["working_hours"])):
        errors["working_hours"] = hours_errors
    fields = [name for name in given if name not in errors]
    for name, messages in _django_errors(probe, exclude=[
        f.name for f in Professional._meta.concrete_fields if f.name not in fields
    ], validate_constraints=False).items():  # fmt: skip
        errors.setdefault(name, []).extend(messages)
    _raise_if(errors)


def _save_professional(professional: Professional) -> None:
    try:
        with transaction.atomic():
            professional.save()
    except IntegrityError as error:
        # Two requests linking the same user at once: the constraint decided.
        raise ValidationFailed(
            fields={"user": [_("This user already has a professional profile in this clinic.")]}
        ) from error


def _replace_working_hours(professional: Professional, intervals: Sequence[WorkingInterval]) -> None:
    """Swap the whole week; `working_hours_errors` already checked the rows
    (weekday, start before end: the model's two constraints, whose database
    check stays as the backstop)."""
    wanted = {(i.weekday, i.starts_at, i.ends_at) for i in intervals}
    changed = False
    # Saves and deletes one by one (never bulk) so the history records each change.
    for row in WorkingHours.objects.filter(professional=professional):
        key = (row.weekday, row.starts_at, row.ends_at)
        if key in wanted:
            wanted.discard(key)
        else:
            row.delete()
            changed = True
    for weekday, starts_at, ends_at in sorted(wanted):
        WorkingHours.objects.create(
            organization_id=professional.organization_id,
            professional=professional,
            weekday=weekday,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        changed = True
    if changed and Professional.hours_version_kept():
        # The row the caller gets back names the new week (a trigger gave it
        # its new version: `clinic.selectors`).
        professional.refresh_from_db(fields=["hours_version"])


@transaction.atomic
def professional_create(
    *,
    clinic: Clinic,
    name: str,
    specialty: str = "",
    color: str = DEFAULT_COLOR,
    user: User | None = None,
    working_hours: Sequence[WorkingInterval] = (),
    is_active: bool = True,
) -> Professional:
    professional = Professional(
        organization_id=clinic.organization_id,
        clinic=clinic,
        user=user,
        name=name.strip(),
        specialty=specialty.strip(),
        color=color.strip().lower(),
        is_active=is_active,
    )
    _validate_professional(professional, check_user=True, working_hours=working_hours)
    _save_professional(professional)
    _replace_working_hours(professional, working_hours)
    return professional


@transaction.atomic
def professional_update(
    *,
    professional: Professional,
    clinic: Clinic | Keep = KEEP,
    name: str | Keep = KEEP,
    specialty: str | Keep = KEEP,
    color: str | Keep = KEEP,
    user: User | Keep | None = KEEP,
    working_hours: Sequence[WorkingInterval] | Keep = KEEP,
    is_active: bool | Keep = KEEP,
) -> Professional:
    """Change a professional; `working_hours`, when given, replaces the whole
    week; `is_active` deactivates or reactivates in the same transaction."""
    # Lock the row: two editors replacing the working hours at once would both
    # delete the old week and both insert theirs, leaving overlapping doubles.
    professional = Professional.objects.select_for_update().select_related("clinic").get(pk=professional.pk)
    check_user = False
    if not isinstance(clinic, Keep) and clinic.pk != professional.clinic_id:
        professional.clinic = clinic
        check_user = True
    if not isinstance(user, Keep) and (user.pk if user else None) != professional.user_id:
        professional.user = user
        check_user = True
    if not isinstance(name, Keep):
        professional.name = name.strip()
    if not isinstance(specialty, Keep):
        professional.specialty = specialty.strip()
    if not isinstance(color, Keep):
        professional.color = color.strip().lower()
    if not isinstance(is_active, Keep):
        professional.is_active = is_active
    hours = None if isinstance(working_hours, Keep) else working_hours
    _validate_professional(professional, check_user=check_user, working_hours=hours)
    _save_professional(professional)
    if hours is not None:
        _replace_working_hours(professional, hours)
    return professional


@transaction.atomic
def professional_set_active(*, professional: Professional, is_active: bool) -> Professional:
    """Deactivate (no new bookings; history and links stay) or reactivate."""
    return professional_update(professional=professional, is_active=is_active)


def _validate_room(room: Room) -> None:
    errors: dict[str, list[str]] = {}
    duplicate = Room.objects.filter(clinic_id=room.clinic_id, name__iexact=room.name).exclude(pk=room.pk)
    if room.name and duplicate.exists():
        errors["name"] = [_("This clinic already has a room with this name.")]
    for name, messages in _django_errors(room, exclude=list(errors), validate_constraints=False).items():
        errors.setdefault(name, []).extend(messages)
    _raise_if(errors)


def _save_room(room: Room) -> None:
    try:
        with transaction.atomic():
            room.save()
    except IntegrityError as error:
        raise ValidationFailed(fields={"name": [_("This clinic already has a room with this name.")]}) from error


@transaction.atomic
def room_create(*, clinic: Clinic, name: str, is_active: bool = True) -> Room:
    room = Room(organization_id=clinic.organization_id, clinic=clinic, name=name.strip(), is_active=is_active)
    _validate_room(room)
    _save_room(room)
    return room


@transaction.atomic
def room_update(
    *, room: Room, name: str | Keep = KEEP, clinic: Clinic | Keep = KEEP, is_active: bool | Keep = KEEP
) -> Room:
    room = Room.objects.select_for_update().get(pk=room.pk)
    if not isinstance(is_active, Keep):
        room.is_active = is_active
    if not isinstance(name, Keep):
        room.name = name.strip()
    if not isinstance(clinic, Keep):
        room.clinic = clinic
    _validate_room(room)
    _save_room(room)
    return room


@transaction.atomic
def room_set_active(*, room: Room, is_active: bool) -> Room:
    return room_update(room=room, is_active=is_active)
