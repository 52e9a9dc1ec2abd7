"""Lost races and edge cases a review of the core found, each pinned down:
the interleavings are forced (a step of one thread made slow) so that the
race happens every run, not by chance."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connections
from django_scopes import scopes_disabled

from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.catalog.models import Service
from packages.patient_packages import budgets, ledger
from packages.patient_packages.models import PackageUsage, PatientPackage
from packages.patient_packages.tasks import renew_organization_packages
from scheduling import package_sessions, recurrence, services
from scheduling.locks import AppointmentGone
from scheduling.models import Appointment
from scheduling.package_sessions import sessions_reconcile
from tests.conftest import api_client, login
from tests.ledger.conftest import book_session, set_status
from tests.packages.factories import ServiceFactory, ServiceLimitFactory, make_template
from tests.scheduling.conftest import at

D = Decimal


def _both(first: tuple[str, Callable[[], object]], second: tuple[str, Callable[[], object]]) -> dict[str, object]:
    """Run two use cases in two threads, the second started a moment after
    the first (which a slowed step keeps inside its transaction)."""
    results: dict[str, object] = {}

    def run(name: str, work: Callable[[], object], delay: float) -> None:
        time.sleep(delay)
        try:
            results[name] = work()
        except Exception as error:  # collected and asserted by the caller
            results[name] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(first[0], first[1], 0.0), name=first[0]),
        threading.Thread(target=run, args=(second[0], second[1], 0.4), name=second[0]),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _slowed(monkeypatch, module: object, name: str, thread: str) -> None:
    """Make `module.name` wait a second when `thread` calls it."""
    real = getattr(module, name)

    def slow(*args, **kwargs):
        if threading.current_thread().name == thread:
            time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)


def _unit(appointment_id: int) -> tuple[int, str] | None:
    with scopes_disabled():
        return (
            PackageUsage.objects.filter(session=appointment_id, state__in=["reserved", "debited"])
            .values_list("package_id", "state")
            .first()
        )


@pytest.mark.django_db(transaction=True)
def test_deleting_a_package_leaves_alone_a_booking_that_moved_to_another(alice, patient, link, monkeypatch) -> None:
    old, new = link(4, "400.00"), link(4, "400.00")
    appointment = book_session(old)
    organization = patient.organization_id
    _slowed(monkeypatch, package_sessions, "sync", "mover")

    def move() -> object:
        with organization_scope(organization):
            return services.appointment_update(appointment=appointment, actor=alice, patient_package=new)

    def delete() -> object:
        with organization_scope(organization):
            return services.patient_package_delete(package=old, actor=alice)

    results = _both(("mover", move), ("deleter", delete))
    assert not isinstance(results["mover"], Exception), results
    assert not isinstance(results["deleter"], Exception), results
    with scopes_disabled():
        moved = Appointment.objects.get(pk=appointment.pk)
        assert PatientPackage.objects.get(pk=old.pk).deleted_at is not None
        assert PatientPackage.objects.get(pk=new.pk).sessions_booked == 1
    assert (moved.patient_package_id, _unit(appointment.pk)) == (new.pk, (new.pk, "reserved"))


@pytest.fixture
def chain_template(tenant_a, assessment, physio_service):
    return make_template(
        tenant_a.central, [(assessment, 1), (physio_service, 7)], name="Avaliação + 7", price=D("800.00"),
        trigger_service=assessment,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_series_and_a_booking_of_a_trigger_service_link_one_package(
    alice, patient, assessment, chain_template, monkeypatch
) -> None:
    organization = patient.organization_id
    _slowed(monkeypatch, services, "_warnings", "series")

    def series() -> object:
        with organization_scope(organization):
            return recurrence.appointment_book_series(
                rule=recurrence.Recurrence(first=at(7, 9), count=1), clinic=patient.clinic, patient=patient,
                lines=[services.LineInput(assessment)], actor=alice,
            )  # fmt: skip

    def single() -> object:
        with organization_scope(organization):
            return services.appointment_book(
                clinic=patient.clinic, patient=patient, start=at(8, 9), lines=[services.LineInput(assessment)],
                actor=alice,
            )  # fmt: skip

    results = _both(("series", series), ("single", single))
    assert not any(isinstance(result, Exception) for result in results.values()), results
    with scopes_disabled():
        linked = set(Appointment.objects.filter(patient=patient).values_list("patient_package_id", flat=True))
        assert PatientPackage.objects.filter(patient=patient, template=chain_template).count() == 1
    assert len(linked) == 1


@pytest.mark.django_db(transaction=True)
def test_a_chained_booking_after_its_package_was_deleted_links_a_new_one(
    alice, patient, assessment, chain_template, monkeypatch
) -> None:
    organization = patient.organization_id
    with organization_scope(organization):
        package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=chain_template)
    _slowed(monkeypatch, ledger, "mark_deleted", "deleter")

    def delete() -> object:
        with organization_scope(organization):
            return services.patient_package_delete(package=package, actor=alice)

    def book() -> object:
        with organization_scope(organization):
            return services.appointment_book(
                clinic=patient.clinic, patient=patient, start=at(8, 9), lines=[services.LineInput(assessment)],
                actor=alice,
            )  # fmt: skip

    results = _both(("deleter", delete), ("booker", book))
    assert not isinstance(results["booker"], Exception), results
    booking = results["booker"]
    assert isinstance(booking, services.Booking)
    assert booking.appointment.patient_package_id not in (None, package.pk)


@pytest.mark.django_db
def test_a_status_in_use_keeps_what_it_does_to_packages(alice, tenant_a, link) -> None:
    package = link(4, "400.00")
    appointment = book_session(package)
    with organization_scope(tenant_a.organization):
        charged = services.appointment_status_save(organization=tenant_a.organization, code="charged", name="Cobrada")
    set_status(appointment, "charged")
    with organization_scope(tenant_a.organization), pytest.raises(ApplicationError) as error:
        services.appointment_status_save(
            organization=tenant_a.organization, code="charged", name="Cobrada", debits=True, status=charged
        )
    assert error.value.code == "status_in_use"
    with organization_scope(tenant_a.organization):
        # Its name and colour still change; the package is untouched.
        services.appointment_status_save(
            organization=tenant_a.organization, code="charged", name="Falta cobrada", color="#b45309", status=charged
        )
        assert sessions_reconcile(PatientPackage.objects.get(pk=package.pk)).differences == {}


@pytest.mark.django_db
def test_this_and_the_following_keep_this_one_s_new_duration(alice, patient, physio_service, tenant_a) -> None:
    with organization_scope(tenant_a.organization):
        bookings = recurrence.appointment_book_series(
            rule=recurrence.Recurrence(first=at(7, 9), count=3), clinic=patient.clinic, patient=patient,
            lines=[services.LineInput(physio_service)], actor=alice,
        )  # fmt: skip
        anchor, second = bookings[0].appointment, bookings[1].appointment
        start = at(7, 10)
        this = {"start": start, "end": start + dt.timedelta(minutes=100)}
        changed = recurrence.appointment_update_following(appointment=anchor, actor=alice, time=dt.time(10), this=this)
        assert changed[0].appointment.pk == anchor.pk
        anchor, second = Appointment.objects.get(pk=anchor.pk), Appointment.objects.get(pk=second.pk)
    assert anchor.end - anchor.start == dt.timedelta(minutes=100)
    assert second.end - second.start == dt.timedelta(minutes=50)  # each other occurrence keeps its own
    assert second.start == at(14, 10)


@pytest.mark.django_db
def test_this_and_the_following_of_a_deleted_occurrence_is_a_conflict(alice, patient, physio_service, tenant_a):
    with organization_scope(tenant_a.organization):
        bookings = recurrence.appointment_book_series(
            rule=recurrence.Recurrence(first=at(7, 9), count=2), clinic=patient.clinic, patient=patient,
            lines=[services.LineInput(physio_service)], actor=alice,
        )  # fmt: skip
        last = bookings[1].appointment
        stale = Appointment.objects.get(pk=last.pk)
        services.appointment_delete(appointment=last, actor=alice)
        with pytest.raises(AppointmentGone) as error:
            recurrence.appointment_update_following(
                appointment=stale, actor=alice, time=dt.time(10), this={"notes": "Moved"}
            )
    assert (error.value.code, error.value.status) == ("conflict", 409)


@pytest.mark.django_db
def test_numbers_out_of_range_are_field_errors(alice, patient, physio_service, link) -> None:
    client = api_client(alice)
    booking = {"patient": patient.pk, "start": at(3, 9).isoformat(), "services": [{"service": physio_service.pk}]}
    response = client.post(
        "/api/v1/appointments/", booking | {"services": [{"service": physio_service.pk, "quantity": 10**9}]},
        format="json",
    )  # fmt: skip
    assert (response.status_code, list(response.json()["fields"])) == (400, ["services"])
    response = client.post(
        "/api/v1/patient-packages/", {"patient": patient.pk, "sessions": 3_000_000_000, "total_price": "100.00"}
    )
    assert (response.status_code, list(response.json()["fields"])) == (400, ["sessions"])
    package = link(4, "400.00")
    response = client.patch(f"/api/v1/patient-packages/{package.pk}/", {"sessions_total": 3_000_000_000})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["sessions_total"])
    with organization_scope(patient.organization_id), pytest.raises(ApplicationError) as error:
        ledger.package_change(package=package, actor=alice, sessions_total=5000)
    assert error.value.fields == {"sessions_total": ["At most 1000 sessions."]}
    response = client.post("/api/v1/appointments/", booking | {"start": "9999-12-31T23:30:00Z"}, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["start"])


@pytest.mark.django_db
def test_the_audit_history_records_a_manual_change_as_it_ends(alice, patient, link) -> None:
    package = link(4, "400.00")
    with organization_scope(patient.organization_id):
        ledger.package_change(package=package, actor=alice, sessions_total=6, amount_total="600.00")
        latest = PatientPackage.history.filter(id=package.pk).order_by("-history_date", "-history_id").first()
    assert (latest.sessions_total, latest.amount_total, latest.history_user) == (6, D("600.00"), alice)


@pytest.mark.django_db
def test_the_monthly_renewal_goes_on_after_a_package_it_cannot_renew(
    alice, patient, catalog_monthly, tenant_a, monkeypatch
) -> None:
    with organization_scope(tenant_a.organization):
        gone, kept = (
            ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
            for _ in range(2)
        )
    real = ledger.package_renew

    def deleted_after_the_job_listed_it(*, package, actor, period):
        if package.pk == gone.pk:
            services.patient_package_delete(package=package, actor=alice)
        return real(package=package, actor=actor, period=period)

    monkeypatch.setattr(ledger, "package_renew", deleted_after_the_job_listed_it)
    next_month = (dt.date.today().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    assert renew_organization_packages(tenant_a.organization.pk, next_month) == 1
    with scopes_disabled():
        assert PatientPackage.objects.get(pk=kept.pk).renewed_through == next_month
        assert PatientPackage.objects.get(pk=gone.pk).renewed_through != next_month


@pytest.mark.django_db
def test_free_to_book_follows_a_price_change_of_the_service(alice, patient, tenant_a) -> None:
    service = ServiceFactory(clinic=tenant_a.central, name="Sessão", price=D("100.00"))
    template = make_template(tenant_a.central, [(service, 10)], name="Dez", price=D("1000.00"), max_amount=D("1000.00"))
    with organization_scope(tenant_a.organization):
        package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)
    with scopes_disabled():
        Service.objects.filter(pk=service.pk).update(price=D("150.00"))
        service.refresh_from_db()
    with organization_scope(tenant_a.organization):
        free = budgets.balances([PatientPackage.objects.get(pk=package.pk)])[package.pk].free
        booked = 0
        for hour in range(10):
            try:
                services.appointment_book(
                    clinic=patient.clinic, patient=patient, start=at(1, 7) + dt.timedelta(hours=hour),
                    lines=[services.LineInput(service)], actor=alice, patient_package=package,
                )  # fmt: skip
            except ApplicationError:
                break
            booked += 1
    assert free == booked == 6  # 1000.00 / 150.00


@pytest.mark.django_db
def test_a_payment_given_back_by_a_release_is_not_debited_again(alice, patient, link, tenant_a) -> None:
    package = link(4, "400.00")
    appointment = book_session(package)
    with organization_scope(tenant_a.organization):
        services.appointment_pay_from_package(appointment=appointment, package=package, actor=alice)
    assert _unit(appointment.pk) == (package.pk, "debited")
    set_status(appointment, "justified_absence")  # the session is credited: the payment is given back
    assert _unit(appointment.pk) is None
    set_status(appointment, "scheduled")  # booked again: reserved, to be paid again or attended
    assert _unit(appointment.pk) == (package.pk, "reserved")
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).paid_from_package is False


@pytest.mark.django_db
def test_a_raise_says_which_limits_grew_and_which_stayed(alice, patient, tenant_a, assessment, physio_service):
    template = make_template(tenant_a.central, [(assessment, 1), (physio_service, 6)], name="Avaliação + 6")
    ServiceLimitFactory(template=template, service=assessment, max_quantity=1)
    ServiceLimitFactory(template=template, service=physio_service, max_quantity=6)
    with organization_scope(tenant_a.organization):
        package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)
    client = login(alice)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    data = {"sessions_total": "9", "amount_total": "1000.00", "paid_at": "", "status": "active", "notes": ""}
    saved = client.post(f"/patients/{patient.pk}/packages/{package.pk}/edit/", data | {"limits": "grow"}, follow=True)
    assert [str(message) for message in saved.context["messages"]][-1] == (
        "The budget limits grew with the sessions: at most 8 × Fisioterapia. "  # noqa: RUF001
        "The budget limits stay as they were: at most 1 × Avaliação. 9 sessions are free to book."  # noqa: RUF001
    )
