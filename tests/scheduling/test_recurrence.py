from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scopes_disabled

from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.patient_packages.models import PatientPackage
from scheduling import services
from scheduling.models import Appointment
from scheduling.recurrence import (
    LinkRow,
    Recurrence,
    appointment_book_series,
    appointment_update_following,
    occurrences,
    package_link_with_dates,
    series_preview,
)
from tests.packages.factories import make_template
from tests.scheduling.conftest import SP, at

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def scope(tenant_a):
    with organization_scope(tenant_a.organization):
        yield


def test_weekly_across_a_daylight_saving_change_keeps_the_wall_clock_time() -> None:
    # Berlin leaves summer time on 25 October 2026.
    first = dt.datetime(2026, 10, 15, 9, 0, tzinfo=BERLIN)
    starts = occurrences(Recurrence(first=first, count=4), BERLIN)
    assert [s.strftime("%d %H:%M %z") for s in starts] == [
        "15 09:00 +0200", "22 09:00 +0200", "29 09:00 +0100", "05 09:00 +0100",
    ]  # fmt: skip
    assert [s.astimezone(dt.UTC).hour for s in starts] == [7, 7, 8, 8]


def test_every_n_weeks_on_weekdays_until_a_date() -> None:
    first = dt.datetime(2026, 12, 1, 18, 0, tzinfo=SP)  # a Tuesday
    starts = occurrences(Recurrence(first=first, interval=2, weekdays=(1, 3), until=dt.date(2026, 12, 31)), SP)
    assert [s.date().isoformat() for s in starts] == ["2026-12-01", "2026-12-03", "2026-12-15", "2026-12-17",
                                                      "2026-12-29", "2026-12-31"]  # fmt: skip


def test_bad_rules_are_clear_errors() -> None:
    first = dt.datetime(2026, 12, 1, 18, 0, tzinfo=SP)
    for rule, field in [
        (Recurrence(first=first), "until"),
        (Recurrence(first=first, count=0), "count"),
        (Recurrence(first=first, count=3, interval=0), "interval"),
        (Recurrence(first=first, count=3, weekdays=(9,)), "weekdays"),
    ]:
        with pytest.raises(ApplicationError) as error:
            occurrences(rule, SP)
        assert list(error.value.fields) == [field]


@pytest.mark.django_db
def test_series_lists_conflicts_before_saving_and_saves_all_or_nothing(patient, alice, therapist, physio_service,
                                                                       scope) -> None:  # fmt: skip
    services.appointment_book(clinic=patient.clinic, patient=patient, start=at(15, 9), professional=therapist,
                              lines=[services.LineInput(physio_service)], actor=alice)  # fmt: skip
    rule = Recurrence(first=at(1, 9), count=4)  # 1, 8, 15, 22 December
    preview = series_preview(rule=rule, clinic=patient.clinic, duration=dt.timedelta(minutes=50),
                             professional=therapist, room=None)  # fmt: skip
    assert [(p.start.day, p.conflict is not None) for p in preview] == [(1, False), (8, False), (15, True), (22, False)]
    with pytest.raises(ApplicationError) as error:
        appointment_book_series(rule=rule, clinic=patient.clinic, patient=patient, actor=alice,
                                professional=therapist, lines=[services.LineInput(physio_service)])  # fmt: skip
    assert error.value.code == "rows_invalid"
    assert list(error.value.fields) == ["rows.2"]
    with scopes_disabled():
        assert Appointment.objects.filter(patient=patient).count() == 1
    bookings = appointment_book_series(rule=rule, clinic=patient.clinic, patient=patient, actor=alice,
                                       professional=therapist, lines=[services.LineInput(physio_service)],
                                       skip_conflicts=True)  # fmt: skip
    assert [b.appointment.start.day for b in bookings] == [1, 8, 22]


@pytest.mark.django_db
def test_this_and_the_following_occurrences(patient, alice, therapist, physio_service, scope) -> None:
    bookings = appointment_book_series(rule=Recurrence(first=at(1, 9), count=4), clinic=patient.clinic,
                                       patient=patient, actor=alice, professional=therapist,
                                       lines=[services.LineInput(physio_service)])  # fmt: skip
    third = bookings[2].appointment
    appointment_update_following(appointment=third, actor=alice, time=dt.time(14, 30))
    with scopes_disabled():
        starts = [a.start.astimezone(SP).strftime("%d %H:%M") for a in Appointment.objects.order_by("start")]
    assert starts == ["01 09:00", "08 09:00", "15 14:30", "22 14:30"]


@pytest.mark.django_db
def test_link_with_ten_dates_is_all_or_nothing(patient, alice, bob, therapist, physio_service, tenant_a,
                                                scope) -> None:  # fmt: skip
    template = make_template(tenant_a.central, [(physio_service, 10)], name="Pacote 10 sessões",
                             price=Decimal("1000.00"))  # fmt: skip
    rows = [LinkRow(start=at(1 + day, 9), professional=therapist) for day in range(10)]
    services.appointment_book(clinic=patient.clinic, patient=patient, start=at(4, 9, 30), professional=therapist,
                              lines=[services.LineInput(physio_service)], actor=alice)  # fmt: skip
    with pytest.raises(ApplicationError) as error:
        package_link_with_dates(patient=patient, clinic=patient.clinic, actor=bob, template=template, rows=rows)
    assert list(error.value.fields) == ["rows.3"]
    with scopes_disabled():
        assert PatientPackage.objects.filter(patient=patient).count() == 0
        assert Appointment.objects.filter(patient=patient).count() == 1
    rows[3] = LinkRow(start=at(4, 15), professional=therapist)
    package, bookings = package_link_with_dates(patient=patient, clinic=patient.clinic, actor=bob,
                                                template=template, rows=rows)  # fmt: skip
    package.refresh_from_db()
    assert (len(bookings), package.sessions_booked, package.sessions_available) == (10, 10, 0)


@pytest.mark.django_db
def test_this_and_the_following_through_the_api(bob, patient, alice, therapist, physio_service, scope) -> None:
    from tests.conftest import api_client

    bookings = appointment_book_series(rule=Recurrence(first=at(1, 9), count=3), clinic=patient.clinic,
                                       patient=patient, actor=alice, professional=therapist,
                                       lines=[services.LineInput(physio_service)])  # fmt: skip
    second = bookings[1].appointment
    response = api_client(bob).post(f"/api/v1/appointments/{second.pk}/following/", {"time": "16:00"})
    assert response.status_code == 200
    assert [a["start"] for a in response.json()] == ["2026-12-08T16:00:00-03:00", "2026-12-15T16:00:00-03:00"]
    single = services.appointment_book(clinic=patient.clinic, patient=patient, start=at(20, 9),
                                       lines=[services.LineInput(physio_service)], actor=alice).appointment  # fmt: skip
    response = api_client(bob).post(f"/api/v1/appointments/{single.pk}/following/", {"time": "16:00"})
    assert (response.status_code, response.json()["code"]) == (409, "not_a_series")
