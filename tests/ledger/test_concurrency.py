"""No overdraw under concurrency (K10), on real PostgreSQL with real threads."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import LedgerEntry, PatientPackage
from scheduling import services
from scheduling.models import Appointment
from scheduling.package_sessions import sessions_reconcile
from tests.ledger.conftest import book_session
from tests.packages.factories import ServiceFactory

THREADS = 50


def run_concurrently(work: Callable[[int], object], count: int = THREADS) -> list[object]:
    """Run `work(i)` in `count` threads released at the same instant; each
    thread has its own database connection. Returns results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # collected and asserted by the caller
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def outcome(result: object) -> str:
    if isinstance(result, ApplicationError):
        return result.code
    if isinstance(result, Exception):
        return f"unexpected {type(result).__name__}: {result}"
    return "ok"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", ["attended", "scheduled"])
def test_fifty_threads_on_a_ten_session_package(link, patient, alice, status) -> None:
    """Fifty bookings at once of a ten-session package, booked (reserving a
    session) or attended right away (debiting one): exactly ten succeed."""
    assert connection.vendor == "postgresql"
    package = link(10, "1000.00")
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=1)
    service = ServiceFactory(clinic=patient.clinic, name="Sessão")

    def work(i: int) -> object:
        with organization_scope(patient.organization_id):
            return services.appointment_book(
                clinic=patient.clinic, patient=patient, start=start + dt.timedelta(hours=i), actor=alice,
                lines=[services.LineInput(service)], patient_package=package, status=status,
            )  # fmt: skip

    outcomes = Counter(outcome(result) for result in run_concurrently(work))
    # Reserving leaves the package active with nothing available; debiting the
    # tenth session finishes it, and a finished package refuses as inactive (K5).
    refusal = "package_exhausted" if status == "scheduled" else "package_inactive"
    assert outcomes == {"ok": 10, refusal: 40}
    with scopes_disabled():
        package = PatientPackage.objects.get(pk=package.pk)
        kinds = Counter(LedgerEntry.objects.filter(package=package).values_list("kind", flat=True))
        assert Appointment.objects.filter(patient_package=package).count() == 10
    assert package.sessions_available == 0
    if status == "attended":
        assert (package.status, package.sessions_used, package.amount_open) == ("finished", 10, 0)
        assert kinds == {"created": 1, "debit": 10}
    else:
        assert (package.status, package.sessions_booked) == ("active", 10)
        assert kinds == {"created": 1, "reserve": 10}
    with organization_scope(patient.organization_id):
        assert ledger.package_reconcile(package).differences == {}
        assert sessions_reconcile(package).differences == {}


@pytest.mark.django_db(transaction=True)
def test_the_same_appointment_attended_by_many_threads_is_debited_once(link, patient, alice) -> None:
    package = link(10, "1000.00")
    appointment = book_session(package)

    def work(i: int) -> object:
        with organization_scope(patient.organization_id):
            return services.appointment_set_status(appointment=appointment, status="attended", actor=alice)

    outcomes = Counter(outcome(result) for result in run_concurrently(work, 20))
    assert outcomes == {"ok": 20}
    package.refresh_from_db()
    assert (package.sessions_used, package.sessions_booked, package.amount_open) == (1, 0, 900)


@pytest.mark.django_db(transaction=True)
def test_package_numbers_are_unique_under_concurrency(link, patient) -> None:
    def work(i: int) -> str:
        return link(2, "100.00").number

    numbers = run_concurrently(work, 20)
    assert all(isinstance(n, str) for n in numbers), numbers
    assert len(set(numbers)) == 20
    assert sorted(int(n.split("-")[1]) for n in numbers) == list(range(1, 21))
