"""Online booking (A6, S5): the offer follows the packages' budgets, slots
follow working hours and the clinic's rules (DST included), a booking goes
through the core and two patients racing for one slot get one booking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.services import clinic_update
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from scheduling import online
from scheduling.models import Appointment
from tests.factories import ProfessionalFactory, WorkingHoursFactory
from tests.ledger.test_concurrency import outcome, run_concurrently
from tests.messaging.test_portal import portal, signed_in
from tests.packages.factories import ServiceFactory, make_template
from tests.patients.factories import PatientFactory

SP = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def clinic(tenant_a):
    with organization_scope(tenant_a.organization):
        clinic_update(clinic=tenant_a.central, online_booking=True, online_notice_hours=2, online_days_ahead=14,
                      online_slot_minutes=30, online_buffer_minutes=10, language="en")  # fmt: skip
    tenant_a.central.refresh_from_db()
    return tenant_a.central


@pytest.fixture
def physio(clinic):
    return ServiceFactory(clinic=clinic, name="Fisioterapia", price=Decimal("100.00"), duration_minutes=50)


@pytest.fixture
def marcos(clinic):
    professional = ProfessionalFactory(clinic=clinic, organization=clinic.organization, name="Marcos")
    for weekday in range(5):
        WorkingHoursFactory(professional=professional, organization=clinic.organization, weekday=weekday,
                            starts_at=dt.time(8), ends_at=dt.time(12))  # fmt: skip
    return professional


def package_of(patient, template, alice) -> PatientPackage:
    with organization_scope(patient.organization_id):
        return ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)


def monday(weeks: int = 1) -> dt.date:
    """A Monday at least two days ahead (on a Sunday, tomorrow's first slots
    would fall inside the cancellation notice), `weeks - 1` weeks later."""
    today = timezone.localdate()
    days = 7 - today.weekday()
    return today + dt.timedelta(days=days + (7 if days < 2 else 0) + 7 * (weeks - 1))


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SP)


@pytest.mark.django_db
def test_the_offer_lists_only_services_the_packages_cover_with_budget_left(patient, clinic, physio, alice):
    pilates = ServiceFactory(clinic=clinic, name="Pilates", price=Decimal("60.00"))
    assessment = ServiceFactory(clinic=clinic, name="Avaliação", price=Decimal("150.00"))
    ServiceFactory(clinic=clinic, name="Acupuntura")  # no package covers it
    physio_plan = make_template(clinic, [(physio, 4)], name="Fisio 4", price=Decimal("400.00"))
    pilates_plan = make_template(clinic, [(pilates, 2)], name="Pilates 2", price=Decimal("120.00"))
    make_template(clinic, [(assessment, 1)], name="Avaliação inicial", price=Decimal("150.00"),
                  trigger_service=assessment)  # fmt: skip
    package_of(patient, physio_plan, alice)
    used_up = package_of(patient, pilates_plan, alice)
    with organization_scope(patient.organization_id):
        ledger.package_change(package=used_up, actor=alice, status="inactive")
        offers = online.offer(patient, clinic)
    assert [(o.service.name, o.package.name if o.package else None) for o in offers] == [
        ("Avaliação", None),  # a trigger service: booking it links its template's package (S5)
        ("Fisioterapia", "Fisio 4"),
    ]


@pytest.mark.django_db
def test_slots_follow_working_hours_notice_buffer_and_the_patient(patient, clinic, physio, marcos, alice):
    day = monday()
    with organization_scope(patient.organization_id):
        other = PatientFactory(clinic=clinic)
        from scheduling import services

        services.appointment_book(clinic=clinic, patient=other, start=at(day, 9), professional=marcos,
                                  lines=[services.LineInput(physio)], actor=alice)  # fmt: skip
        slots = online.free_slots(clinic, online.bookable_professionals(clinic), service=physio, patient=patient,
                                  first_day=day, days=1)[marcos.pk]  # fmt: skip
    times = [timezone.localtime(s, SP).strftime("%H:%M") for s in slots]
    # 08:00 fits (50 min + 10 buffer ends 09:00); 08:30 would run into the 09:00 session;
    # 09:00-09:50 is taken, plus its buffer until 10:00; 11:10 is the last start that ends by 12:00.
    assert times == ["08:00", "10:00", "10:30", "11:00"]
    with organization_scope(patient.organization_id):
        none_on_saturday = online.free_slots(clinic, [marcos], service=physio, patient=patient,
                                             first_day=day - dt.timedelta(days=2), days=1)  # fmt: skip
        assert none_on_saturday[marcos.pk] == []
        soon = online.free_slots(clinic, [marcos], service=physio, patient=patient,
                                 now=at(day, 7, 30), first_day=day, days=1)[marcos.pk]  # fmt: skip
    assert timezone.localtime(soon[0], SP).strftime("%H:%M") == "10:00"  # 2 hours' notice from 07:30


@pytest.mark.django_db
def test_slots_keep_the_wall_clock_across_a_daylight_saving_change(tenant_b, charlie):
    with organization_scope(tenant_b.organization):
        clinic_update(clinic=tenant_b.central, time_zone="Europe/Berlin", online_booking=True,
                      online_notice_hours=0, online_days_ahead=366, online_slot_minutes=60, country="DE")  # fmt: skip
        clinic = tenant_b.central
        clinic.refresh_from_db()
        service = ServiceFactory(clinic=clinic, duration_minutes=60)
        night = ProfessionalFactory(clinic=clinic, organization=clinic.organization)
        WorkingHoursFactory(professional=night, organization=clinic.organization, weekday=6,
                            starts_at=dt.time(1), ends_at=dt.time(4))  # fmt: skip
        patient = PatientFactory(clinic=clinic)
        # Sunday 28 March 2027: clocks go from 02:00 to 03:00 in Berlin.
        change = dt.date(2027, 3, 28)
        march = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
        slots = online.free_slots(clinic, [night], service=service, patient=patient, now=march, first_day=change,
                                  days=1)[night.pk]  # fmt: skip
        before = online.free_slots(clinic, [night], service=service, patient=patient,
                                   now=dt.datetime(2027, 3, 1, tzinfo=dt.UTC), first_day=change - dt.timedelta(days=7),
                                   days=1)[night.pk]  # fmt: skip
    berlin = ZoneInfo("Europe/Berlin")
    assert [s.astimezone(berlin).strftime("%H:%M") for s in before] == ["01:00", "02:00", "03:00"]
    assert [s.astimezone(berlin).strftime("%H:%M") for s in slots] == ["01:00", "03:00"]  # 02:00 does not exist
    assert [s.astimezone(dt.UTC).strftime("%H:%M") for s in slots] == ["00:00", "01:00"]


@pytest.mark.django_db
def test_a_patient_books_online_through_the_core(patient, clinic, physio, marcos, alice, outbox):
    package = package_of(patient, make_template(clinic, [(physio, 4)], name="Fisio 4", price=Decimal("400.00")), alice)
    client = signed_in(patient, outbox)
    base = portal(clinic)
    assert 'data-testid="portal-book"' in client.get(base + "me/").content.decode()
    assert "Fisioterapia" in client.get(base + "me/book/").content.decode()
    day = monday()
    page = client.get(base + f"me/book/{physio.pk}/", {"day": day.isoformat()})
    start = at(day, 10).isoformat()
    assert f'data-start="{start}"' in page.content.decode()
    response = client.post(base + f"me/book/{physio.pk}/?day={day.isoformat()}",
                           {"professional": marcos.pk, "start": start})  # fmt: skip
    assert response.status_code == 302
    with scopes_disabled():
        appointment = Appointment.objects.get(patient=patient)
        package.refresh_from_db()
    assert (appointment.booked_online, appointment.professional_id, appointment.patient_package_id) == (
        True, marcos.pk, package.pk,
    )  # fmt: skip
    assert package.sessions_booked == 1  # reserved through the core, like at the desk
    again = client.post(base + f"me/book/{physio.pk}/", {"professional": marcos.pk, "start": start})
    assert again.status_code == 409
    assert "just taken" in again.content.decode()
    forged = client.post(base + f"me/book/{physio.pk}/", {"professional": marcos.pk,
                                                         "start": at(day, 13).isoformat()})  # fmt: skip
    assert forged.status_code == 409  # outside the working hours: not a slot
    assert client.get(base + "me/book/99999/").status_code == 404
    # Staff see it marked as booked online.
    from tests.conftest import login

    modal = login(alice).get(f"/calendar/appointments/{appointment.pk}/", HTTP_HX_REQUEST="true")
    assert modal.status_code == 200


@pytest.mark.django_db
def test_the_cap_on_upcoming_sessions_and_a_chained_template_created_once(patient, clinic, physio, marcos, alice,
                                                                           outbox):  # fmt: skip
    template = make_template(clinic, [(physio, 3)], name="Avaliação + 2", price=Decimal("300.00"),
                             trigger_service=physio)  # fmt: skip
    with organization_scope(clinic.organization_id):
        clinic_update(clinic=clinic, online_max_upcoming=2)
    clinic.refresh_from_db()
    day = monday()
    with organization_scope(clinic.organization_id):
        first = online.online_book(clinic=clinic, patient=patient, professional=marcos, service=physio,
                                   start=at(day, 8), package=None)  # fmt: skip
        second_offer = online.offer(patient, clinic)
        [offer] = [o for o in second_offer if o.service.pk == physio.pk]
        second = online.online_book(clinic=clinic, patient=patient, professional=marcos, service=physio,
                                    start=at(day, 10), package=offer.package)  # fmt: skip
        assert first.patient_package_id == second.patient_package_id  # one package, linked once
        assert PatientPackage.objects.filter(patient=patient, template=template).count() == 1
        with pytest.raises(online.TooManyUpcoming):
            online.online_book(clinic=clinic, patient=patient, professional=marcos, service=physio,
                               start=at(day, 11), package=offer.package)  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_two_patients_racing_for_one_slot_get_one_booking(tenant_a, alice):
    with organization_scope(tenant_a.organization):
        clinic_update(clinic=tenant_a.central, online_booking=True, online_notice_hours=1)
    clinic = tenant_a.central
    clinic.refresh_from_db()
    physio = ServiceFactory(clinic=clinic, price=Decimal("100.00"), duration_minutes=50)
    marcos = ProfessionalFactory(clinic=clinic, organization=clinic.organization)
    for weekday in range(5):
        WorkingHoursFactory(professional=marcos, organization=clinic.organization, weekday=weekday,
                            starts_at=dt.time(8), ends_at=dt.time(12))  # fmt: skip
    patients = [PatientFactory(clinic=clinic) for _ in range(4)]
    start = at(monday(), 9)

    def book(i: int) -> str:
        with organization_scope(clinic.organization_id):
            online.online_book(clinic=clinic, patient=patients[i], professional=marcos, service=physio, start=start,
                               package=None)  # fmt: skip
        return "booked"

    outcomes = [outcome(result) for result in run_concurrently(book, len(patients))]
    assert sorted(outcomes) == ["ok", "slot_taken", "slot_taken", "slot_taken"]
    with scopes_disabled():
        assert Appointment.objects.filter(start=start).count() == 1


@pytest.mark.django_db
def test_the_public_booking_link_leads_through_the_sign_in(clinic):
    response = Client().get(portal(clinic) + "book/")
    assert response["Location"] == portal(clinic)


@pytest.mark.django_db
def test_only_the_professionals_who_provide_the_service_are_offered(alice, patient, clinic, physio, marcos):
    from tests.conftest import login

    acupuncture = ProfessionalFactory(clinic=clinic, organization=clinic.organization, name="Fernando")
    WorkingHoursFactory(professional=acupuncture, organization=clinic.organization, weekday=0,
                        starts_at=dt.time(8), ends_at=dt.time(12))  # fmt: skip
    with organization_scope(clinic.organization_id):
        assert {p.name for p in online.bookable_professionals(clinic, physio)} == {"Marcos", "Fernando"}  # none named
    response = login(alice).post(f"/packages/services/{physio.pk}/", {
        "name": "Fisioterapia", "price": "100.00", "duration_minutes": "50", "professionals": [marcos.pk]})  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    with organization_scope(clinic.organization_id):
        assert [p.name for p in online.bookable_professionals(clinic, physio)] == ["Marcos"]
        with pytest.raises(online.SlotTaken):
            online.online_book(clinic=clinic, patient=patient, professional=acupuncture, service=physio,
                               start=at(monday(), 9), package=None)  # fmt: skip
    form = login(alice).get(f"/packages/services/{physio.pk}/").context["form"]
    assert form.initial["professionals"] == [marcos.pk]


@pytest.mark.django_db(transaction=True)
def test_one_patient_racing_with_several_professionals_keeps_to_the_cap(tenant_a):
    with organization_scope(tenant_a.organization):
        clinic_update(clinic=tenant_a.central, online_booking=True, online_notice_hours=1, online_max_upcoming=1)
    clinic = tenant_a.central
    clinic.refresh_from_db()
    physio = ServiceFactory(clinic=clinic, price=Decimal("100.00"), duration_minutes=50)
    staff = []
    for n in range(3):
        professional = ProfessionalFactory(clinic=clinic, organization=clinic.organization)
        WorkingHoursFactory(professional=professional, organization=clinic.organization, weekday=0,
                            starts_at=dt.time(8), ends_at=dt.time(12))  # fmt: skip
        staff.append((professional, at(monday(), 8 + n)))
    patient = PatientFactory(clinic=clinic)

    def book(i: int) -> str:
        professional, start = staff[i]
        with organization_scope(clinic.organization_id):
            online.online_book(clinic=clinic, patient=patient, professional=professional, service=physio,
                               start=start, package=None)  # fmt: skip
        return "booked"

    outcomes = [outcome(result) for result in run_concurrently(book, len(staff))]
    assert sorted(outcomes) == ["ok", "too_many_upcoming", "too_many_upcoming"]


@pytest.mark.django_db
def test_out_of_range_days_and_times_are_refused_not_500(patient, clinic, physio, marcos, alice, outbox):
    package_of(patient, make_template(clinic, [(physio, 4)], name="Fisio 4", price=Decimal("400.00")), alice)
    client = signed_in(patient, outbox)
    url = portal(clinic) + f"me/book/{physio.pk}/"
    assert client.get(url, {"day": "9999-12-31"}).status_code == 200
    assert client.get(url, {"day": "not a day"}).status_code == 200
    for start in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00", "2027-01-01T09:00:00"):
        assert client.post(url, {"professional": marcos.pk, "start": start}).status_code == 409


@pytest.mark.django_db
def test_the_first_of_two_repeated_hours_can_be_booked(tenant_b):
    with organization_scope(tenant_b.organization):
        clinic_update(clinic=tenant_b.central, time_zone="Europe/Berlin", online_booking=True, online_notice_hours=0,
                      online_days_ahead=366, online_slot_minutes=30, country="DE")  # fmt: skip
        clinic = tenant_b.central
        clinic.refresh_from_db()
        service = ServiceFactory(clinic=clinic, duration_minutes=20)
        night = ProfessionalFactory(clinic=clinic, organization=clinic.organization)
        WorkingHoursFactory(professional=night, organization=clinic.organization, weekday=6,
                            starts_at=dt.time(2), ends_at=dt.time(3))  # fmt: skip
        patient = PatientFactory(clinic=clinic)
        # Sunday 31 October 2027: 02:00-03:00 happens twice in Berlin (CEST, then CET).
        slots = online.free_slots(clinic, [night], service=service, patient=patient,
                                  first_day=dt.date(2027, 10, 31), days=1)[night.pk]  # fmt: skip
        half_past_two = next(s for s in slots if s.strftime("%H:%M") == "02:30")
        posted = dt.datetime.fromisoformat(half_past_two.isoformat())  # as the page posts it: a fixed offset
        booked = online.online_book(clinic=clinic, patient=patient, professional=night, service=service,
                                    start=posted, package=None)  # fmt: skip
    assert (
        booked.start.astimezone(dt.UTC)
        == half_past_two.astimezone(dt.UTC)
        == dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC)
    )
