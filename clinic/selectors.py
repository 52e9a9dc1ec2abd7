"""Reads of the clinic app that other apps and pages share: professionals, their
working hours and rooms."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable

from django.db.models import QuerySet

from clinic.models import Clinic, Membership, Professional, Room, User
from clinic.tenancy import organization_scope

_DAY = dt.timedelta(days=1)


def professionals_for_clinic(clinic: Clinic, *, active_only: bool = True) -> QuerySet[Professional]:
    """The clinic's professionals by name, with their clinic, user and working
    hours loaded (`professional_is_working` then needs no query)."""
    queryset = (
        Professional.objects.filter(clinic=clinic)
        .select_related("clinic", "user")
        .prefetch_related("working_hours")
        .order_by("name", "pk")
    )
    return queryset.filter(is_active=True) if active_only else queryset


def rooms_for_clinic(clinic: Clinic, *, active_only: bool = True) -> QuerySet[Room]:
    queryset = Room.objects.filter(clinic=clinic).order_by("name", "pk")
    return queryset.filter(is_active=True) if active_only else queryset


def users_for_clinic(clinic: Clinic) -> QuerySet[User]:
    """Active users with a membership (any role) in the clinic: the people a
    professional profile can be linked to."""
    return (
        User.objects.filter(
            organization_id=clinic.organization_id,
            is_active=True,
            memberships__clinic=clinic,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def clinic_membership(memberships: Iterable[Membership], clinic: Clinic) -> Membership | None:
    """The caller's membership in `clinic`, from the memberships the tenant
    middleware already loaded (no query)."""
    return next((m for m in memberships if m.clinic_id == clinic.pk), None)


def _seconds(moment: dt.time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


Week = tuple[tuple[int, dt.time, dt.time], ...]  # (weekday, from, until) of each interval


def _read_week(professional_id: int, organization_id: int) -> tuple[int | None, Week]:
    """The professional's `hours_version` and intervals, read in one statement
    (so the week is the one that version names), in the professional's own
    organization: the caller holds the row, and a caller in another scope (a
    command's, by mistake) must not leave an empty week in the cache for
    everyone. No extra statement when the scope already is that organization,
    as in a request."""
    with organization_scope(organization_id):
        rows = list(
            Professional.objects.filter(pk=professional_id)
            .order_by()
            .values_list(
                "hours_version", "working_hours__weekday", "working_hours__starts_at", "working_hours__ends_at"
            )
        )
    version = rows[0][0] if rows else None
    return version, tuple((day, starts, ends) for _v, day, starts, ends in rows if day is not None)


class _OtherVersion(Exception):  # not an error: a week answered, not cached
    def __init__(self, week: Week) -> None:
        self.week = week


@functools.lru_cache(maxsize=4096)
def _cached_week(professional_id: int, organization_id: int, hours_version: int) -> Week:
    """A professional's week as of `hours_version` (thread-safe, bounded).

    PostgreSQL gives the row a new version whenever an interval changes,
    from a sequence, and keeps it when the row itself is saved (migration
    clinic 0022): a version names one state of the week, even a state that
    was rolled back. What is cached under a version is the week read with
    that very version; when the row has moved on since the caller read it
    (or this transaction changed the hours), the week read is answered but
    not cached (lru_cache keeps no exception). A professional's id is unique
    across organizations."""
    version, week = _read_week(professional_id, organization_id)
    if version != hours_version:
        raise _OtherVersion(week)
    return week


def _week(professional: Professional) -> Week:
    """The week of the professional, with no query when the caller prefetched
    it or when this process already read it at this version."""
    prefetched = getattr(professional, "_prefetched_objects_cache", {}).get("working_hours")
    if prefetched is not None:
        return tuple((i.weekday, i.starts_at, i.ends_at) for i in prefetched)
    if not Professional.hours_version_kept() or "hours_version" in professional.get_deferred_fields():
        # Nothing keeps the version there, or the caller's row was read without it.
        return _read_week(professional.pk, professional.organization_id)[1]
    try:
        return _cached_week(professional.pk, professional.organization_id, professional.hours_version)
    except _OtherVersion as other:
        return other.week


def _merged_day(intervals: Week, weekday: int) -> list[tuple[int, int]]:
    """One weekday's intervals as (start, end) seconds since midnight, touching
    ones merged: 08:00-12:00 and 12:00-18:00 cover a 11:30-12:30 appointment."""
    spans = sorted((_seconds(starts), _seconds(ends)) for day, starts, ends in intervals if day == weekday)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def professional_is_working(professional: Professional, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether [start, end) lies entirely inside the professional's working hours.

    The datetimes must be timezone-aware; they are read as wall-clock time in
    the clinic's time zone, where the working hours are kept. An inactive
    professional is not working. Uses the prefetched `working_hours` when the
    caller loaded them (`professionals_for_clinic` does), else the week this
    process read at the row's `hours_version` (a booking then runs no query).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("professional_is_working needs timezone-aware datetimes")
    if end <= start:
        raise ValueError("the end must be after the start")
    if not professional.is_active:
        return False
    zone = zoneinfo.ZoneInfo(professional.clinic.time_zone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    intervals = _week(professional)
    # An appointment past midnight must be covered on each day it touches.
    day = local_start.date()
    while day <= local_end.date():
        day_start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        segment_start = max(local_start, day_start)
        segment_end = min(local_end, dt.datetime.combine(day + _DAY, dt.time.min, tzinfo=zone))
        if segment_end > segment_start:
            # Wall-clock seconds since midnight (a DST day is not 86 400 s long).
            from_s = _seconds(segment_start.time())
            until_s = 86400 if segment_end.date() > day else _seconds(segment_end.time())
            covered = any(s <= from_s and until_s <= e for s, e in _merged_day(intervals, day.weekday()))
            if not covered:
                return False
        day += _DAY
    return True
