"""`professional_is_working` (the calendar's "outside working hours" warning),
the working-hours rules of the services and the weekly summary of the lists."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import transaction

from clinic import resources
from clinic.errors import ValidationFailed
from clinic.models import Professional, WorkingHours
from clinic.resource_views import weekly_hours_summary
from clinic.resources import WorkingInterval
from clinic.selectors import professional_is_working, professionals_for_clinic
from tests.factories import ClinicFactory, ProfessionalFactory, WorkingHoursFactory

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")  # UTC-3, no daylight saving time
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")  # UTC+9
UTC = dt.UTC
MONDAY = dt.date(2026, 3, 2)


def en_dash(text: str) -> str:
    """The pages and messages write time spans with an en dash; tests type a hyphen."""
    return text.replace("-", "\N{EN DASH}")


def _at(day: dt.date, hhmm: str, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), tzinfo=zone)


def _professional(tenant, *spans: tuple[int, str, str], time_zone: str = "America/Sao_Paulo") -> Professional:
    clinic = tenant.central
    if time_zone != clinic.time_zone:
        clinic = ClinicFactory(organization=tenant.organization, name=f"Clinic in {time_zone}", time_zone=time_zone)
    professional = ProfessionalFactory(clinic=clinic)
    for weekday, start, end in spans:
        WorkingHoursFactory(
            professional=professional,
            weekday=weekday,
            starts_at=dt.time.fromisoformat(start),
            ends_at=dt.time.fromisoformat(end),
        )
    return professional


def _interval(weekday: int, start: str, end: str) -> WorkingInterval:
    return WorkingInterval(weekday=weekday, starts_at=dt.time.fromisoformat(start), ends_at=dt.time.fromisoformat(end))


@pytest.mark.django_db
def test_professional_is_working_inside_and_outside_a_day_with_a_lunch_break(tenant_a, in_scope_of) -> None:
    professional = _professional(tenant_a, (0, "08:00", "12:00"), (0, "13:00", "18:00"))
    with in_scope_of(tenant_a.organization):
        assert professional_is_working(professional, _at(MONDAY, "08:00", SAO_PAULO), _at(MONDAY, "09:00", SAO_PAULO))
        assert professional_is_working(professional, _at(MONDAY, "17:00", SAO_PAULO), _at(MONDAY, "18:00", SAO_PAULO))
        # Across the lunch break, before the day starts, after it ends.
        assert not professional_is_working(
            professional, _at(MONDAY, "11:30", SAO_PAULO), _at(MONDAY, "12:30", SAO_PAULO)
        )
        assert not professional_is_working(
            professional, _at(MONDAY, "07:30", SAO_PAULO), _at(MONDAY, "08:30", SAO_PAULO)
        )
        assert not professional_is_working(
            professional, _at(MONDAY, "17:30", SAO_PAULO), _at(MONDAY, "18:30", SAO_PAULO)
        )
        # Tuesday has no hours at all.
        tuesday = MONDAY + dt.timedelta(days=1)
        assert not professional_is_working(
            professional, _at(tuesday, "09:00", SAO_PAULO), _at(tuesday, "10:00", SAO_PAULO)
        )


@pytest.mark.django_db
def test_professional_is_working_through_noon_in_one_interval_and_in_touching_ones(tenant_a, in_scope_of) -> None:
    crossing_noon = _professional(tenant_a, (0, "10:00", "14:00"))
    touching = _professional(tenant_a, (0, "08:00", "12:00"), (0, "12:00", "18:00"))
    with in_scope_of(tenant_a.organization):
        start, end = _at(MONDAY, "11:30", SAO_PAULO), _at(MONDAY, "12:30", SAO_PAULO)
        assert professional_is_working(crossing_noon, start, end)
        assert professional_is_working(touching, start, end)
        assert professional_is_working(touching, _at(MONDAY, "08:00", SAO_PAULO), _at(MONDAY, "18:00", SAO_PAULO))
        assert not professional_is_working(
            crossing_noon, _at(MONDAY, "13:30", SAO_PAULO), _at(MONDAY, "14:30", SAO_PAULO)
        )


@pytest.mark.django_db
def test_professional_is_working_reads_the_times_in_the_clinic_time_zone(tenant_a, in_scope_of) -> None:
    in_sao_paulo = _professional(tenant_a, (0, "08:00", "12:00"))
    in_tokyo = _professional(tenant_a, (0, "08:00", "12:00"), time_zone="Asia/Tokyo")
    with in_scope_of(tenant_a.organization):
        # 11:00-12:00 UTC is 08:00-09:00 in São Paulo: working...
        assert professional_is_working(in_sao_paulo, _at(MONDAY, "11:00", UTC), _at(MONDAY, "12:00", UTC))
        # ...while 08:00-09:00 UTC is 05:00-06:00 there: not working.
        assert not professional_is_working(in_sao_paulo, _at(MONDAY, "08:00", UTC), _at(MONDAY, "09:00", UTC))
        # Sunday 23:30 UTC is Monday 08:30 in Tokyo: working, though in UTC it is still Sunday.
        sunday = MONDAY - dt.timedelta(days=1)
        assert professional_is_working(in_tokyo, _at(sunday, "23:30", UTC), _at(MONDAY, "00:30", UTC))
        # The same instant given in another zone is the same answer.
        assert professional_is_working(
            in_tokyo, _at(sunday, "20:30", SAO_PAULO), _at(sunday, "21:30", SAO_PAULO)
        )  # 08:30-09:30 in Tokyo
        assert not professional_is_working(in_tokyo, _at(MONDAY, "08:00", UTC), _at(MONDAY, "09:00", UTC))
        # Monday 08:00-09:00 in Tokyo read as if it were UTC would be wrong: it is Sunday 23:00 UTC.
        assert professional_is_working(in_tokyo, _at(MONDAY, "08:00", TOKYO), _at(MONDAY, "09:00", TOKYO))


@pytest.mark.django_db
def test_professional_is_working_past_midnight_needs_both_days(tenant_a, in_scope_of) -> None:
    professional = _professional(tenant_a, (0, "20:00", "23:59"), (1, "00:00", "02:00"))
    with in_scope_of(tenant_a.organization):
        tuesday = MONDAY + dt.timedelta(days=1)
        # 23:59 is the last minute the model can hold, so a booking up to midnight is outside.
        assert not professional_is_working(
            professional, _at(MONDAY, "23:30", SAO_PAULO), _at(tuesday, "00:30", SAO_PAULO)
        )
        assert professional_is_working(professional, _at(tuesday, "00:00", SAO_PAULO), _at(tuesday, "01:00", SAO_PAULO))


@pytest.mark.django_db
def test_inactive_professional_is_never_working(tenant_a, in_scope_of) -> None:
    professional = _professional(tenant_a, (0, "08:00", "18:00"))
    professional.is_active = False
    with in_scope_of(tenant_a.organization):
        assert not professional_is_working(
            professional, _at(MONDAY, "09:00", SAO_PAULO), _at(MONDAY, "10:00", SAO_PAULO)
        )


@pytest.mark.django_db
def test_professional_is_working_refuses_naive_or_reversed_datetimes(tenant_a, in_scope_of) -> None:
    professional = _professional(tenant_a, (0, "08:00", "18:00"))
    with in_scope_of(tenant_a.organization):
        with pytest.raises(ValueError, match="timezone-aware"):
            professional_is_working(professional, dt.datetime(2026, 3, 2, 9), dt.datetime(2026, 3, 2, 10))
        with pytest.raises(ValueError, match="after the start"):
            professional_is_working(professional, _at(MONDAY, "10:00", SAO_PAULO), _at(MONDAY, "09:00", SAO_PAULO))


@pytest.mark.django_db
def test_professional_is_working_uses_the_prefetched_hours(tenant_a, in_scope_of, django_assert_num_queries) -> None:
    for _ in range(3):
        _professional(tenant_a, (0, "08:00", "12:00"), (0, "13:00", "18:00"))
    with in_scope_of(tenant_a.organization):
        professionals = list(professionals_for_clinic(tenant_a.central))
        with django_assert_num_queries(0):
            answers = [
                professional_is_working(p, _at(MONDAY, "09:00", SAO_PAULO), _at(MONDAY, "10:00", SAO_PAULO))
                for p in professionals
            ]
    assert answers == [True, True, True]


def test_working_hours_errors_name_the_weekday() -> None:
    assert resources.working_hours_errors(
        [
            _interval(0, "08:00", "12:00"),
            _interval(0, "11:00", "13:00"),
            _interval(2, "14:00", "13:00"),
            _interval(7, "08:00", "09:00"),
        ]
    ) == [
        "Wednesday: the start (14:00) must be before the end (13:00).",
        "“7” is not a weekday (0 is Monday, 6 is Sunday).",
        en_dash("Monday: 08:00-12:00 overlaps 11:00-13:00."),
    ]


def test_working_hours_errors_accept_touching_intervals_and_other_days() -> None:
    assert (
        resources.working_hours_errors(
            [_interval(0, "08:00", "12:00"), _interval(0, "12:00", "18:00"), _interval(1, "08:00", "18:00")]
        )
        == []
    )


def test_working_hours_errors_find_an_overlap_hidden_behind_a_short_interval() -> None:
    assert resources.working_hours_errors(
        [_interval(4, "08:00", "12:00"), _interval(4, "09:00", "10:00"), _interval(4, "11:00", "13:00")]
    ) == [en_dash("Friday: 08:00-12:00 overlaps 09:00-10:00."), en_dash("Friday: 08:00-12:00 overlaps 11:00-13:00.")]


@pytest.mark.django_db
def test_overlapping_hours_are_refused_and_nothing_is_written(tenant_a, in_scope_of) -> None:
    professional = _professional(tenant_a, (0, "08:00", "12:00"))
    with in_scope_of(tenant_a.organization):
        with pytest.raises(ValidationFailed) as caught:
            resources.professional_update(
                professional=professional,
                name="Renamed",
                working_hours=[_interval(3, "08:00", "12:00"), _interval(3, "11:59", "18:00")],
            )
        assert caught.value.fields == {"working_hours": [en_dash("Thursday: 08:00-12:00 overlaps 11:59-18:00.")]}
        professional.refresh_from_db()
        assert professional.name != "Renamed"
        assert [str(h) for h in WorkingHours.objects.filter(professional=professional)] == [
            en_dash("Monday 08:00-12:00")
        ]


@pytest.mark.django_db
def test_weekly_hours_summary_groups_days_with_the_same_hours(tenant_a, in_scope_of) -> None:
    spans = [(day, "08:00", "12:00") for day in range(5)] + [(day, "13:00", "18:00") for day in range(5)]
    professional = _professional(tenant_a, *spans, (5, "08:00", "12:00"))
    split = _professional(tenant_a, (0, "09:00", "17:00"), (2, "09:00", "17:00"), (3, "09:00", "17:00"))
    with in_scope_of(tenant_a.organization):
        assert weekly_hours_summary(professional.working_hours.all()) == (
            en_dash("Mon-Fri 08:00-12:00, 13:00-18:00; Sat 08:00-12:00")
        )
        assert weekly_hours_summary(split.working_hours.all()) == en_dash("Mon, Wed, Thu 09:00-17:00")
        assert weekly_hours_summary([]) == ""


def _read(professional: Professional) -> Professional:
    """The row as a request reads it (with its clinic, for the time zone)."""
    return Professional.objects.select_related("clinic").get(pk=professional.pk)


def _version(professional: Professional) -> int:
    return Professional.objects.values_list("hours_version", flat=True).get(pk=professional.pk)


@pytest.mark.django_db
def test_every_write_of_an_interval_gives_the_professional_a_new_hours_version(tenant_a, in_scope_of) -> None:
    professional = _professional(tenant_a)
    with in_scope_of(tenant_a.organization):
        seen = [_version(professional)]
        interval = WorkingHoursFactory(professional=professional)  # any writer: here the ORM, not the service
        seen.append(_version(professional))
        interval.ends_at = dt.time(13, 0)
        interval.save()
        seen.append(_version(professional))
        interval.delete()
        seen.append(_version(professional))
        week = [_interval(0, "08:00", "12:00")]
        updated = resources.professional_update(professional=professional, working_hours=week)
        seen.append(_version(professional))
        assert updated.hours_version == seen[-1]  # the service's row names the week it wrote
    assert seen == sorted(set(seen)), seen  # a new value each time, never one seen before


@pytest.mark.django_db
def test_saving_a_professional_read_before_an_interval_changed_keeps_the_new_hours_version(
    tenant_a, in_scope_of
) -> None:
    professional = _professional(tenant_a)
    with in_scope_of(tenant_a.organization):
        stale = Professional.objects.get(pk=professional.pk)
        WorkingHoursFactory(professional=professional)
        current = _version(professional)
        assert stale.hours_version != current
        stale.name = "Renamed"
        stale.save()  # writes every column, its old hours_version too
        assert _version(professional) == current


@pytest.mark.django_db
def test_a_version_of_a_rolled_back_change_is_never_given_again(tenant_a, in_scope_of) -> None:
    professional = _professional(tenant_a)
    with in_scope_of(tenant_a.organization):
        rolled_back = []

        def change_then_fail() -> None:
            WorkingHoursFactory(professional=professional, starts_at=dt.time(6, 0))
            rolled_back.append(_version(professional))
            raise RuntimeError("roll back")

        with pytest.raises(RuntimeError, match="roll back"):
            transaction.atomic(change_then_fail)()
        assert not WorkingHours.objects.filter(professional=professional).exists()
        WorkingHoursFactory(professional=professional)
        assert _version(professional) not in (0, *rolled_back)


@pytest.mark.django_db
def test_professional_is_working_reads_a_week_once_per_version(
    tenant_a, in_scope_of, django_assert_num_queries
) -> None:
    professional = _professional(tenant_a, (0, "08:00", "12:00"))
    nine, ten = _at(MONDAY, "09:00", SAO_PAULO), _at(MONDAY, "10:00", SAO_PAULO)
    one, two = _at(MONDAY, "13:00", SAO_PAULO), _at(MONDAY, "14:00", SAO_PAULO)
    with in_scope_of(tenant_a.organization):
        row = _read(professional)
        with django_assert_num_queries(1):
            assert professional_is_working(row, nine, ten)
        again = _read(professional)
        with django_assert_num_queries(0):  # the same version: this process knows the week
            assert professional_is_working(again, nine, ten)
            assert not professional_is_working(again, one, two)
        resources.professional_update(
            professional=professional, working_hours=[_interval(0, "08:00", "12:00"), _interval(0, "13:00", "18:00")]
        )
        changed = _read(professional)
        with django_assert_num_queries(1):  # a new version: read once
            assert professional_is_working(changed, one, two)


@pytest.mark.django_db
def test_a_week_read_from_another_scope_is_the_professionals_own(tenant_a, tenant_b, in_scope_of) -> None:
    professional = _professional(tenant_a, (0, "08:00", "12:00"))
    nine, ten = _at(MONDAY, "09:00", SAO_PAULO), _at(MONDAY, "10:00", SAO_PAULO)
    with in_scope_of(tenant_a.organization):
        row = _read(professional)
    with in_scope_of(tenant_b.organization):  # a caller holding another organization's row, by mistake
        assert professional_is_working(row, nine, ten)
    with in_scope_of(tenant_a.organization):  # and what it cached is the week itself, not an empty one
        assert professional_is_working(_read(professional), nine, ten)


@pytest.mark.django_db
def test_a_week_changed_since_the_caller_read_the_row_is_answered_but_not_cached(
    tenant_a, in_scope_of, django_assert_num_queries
) -> None:
    professional = _professional(tenant_a, (0, "08:00", "12:00"))
    one, two = _at(MONDAY, "13:00", SAO_PAULO), _at(MONDAY, "14:00", SAO_PAULO)
    with in_scope_of(tenant_a.organization):
        row = _read(professional)

        def afternoon_then_roll_back() -> None:
            WorkingHoursFactory(professional=professional, starts_at=dt.time(13, 0), ends_at=dt.time(18, 0))
            assert professional_is_working(row, one, two)  # this transaction's week, under the row's older version
            raise RuntimeError("roll back")

        with pytest.raises(RuntimeError, match="roll back"):
            transaction.atomic(afternoon_then_roll_back)()
        with django_assert_num_queries(1):  # nothing was cached for the row's version: read again
            assert not professional_is_working(row, one, two)
        with django_assert_num_queries(0):
            assert not professional_is_working(row, one, two)
