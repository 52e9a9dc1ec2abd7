"""Races between the entry points that lock the same rows, through the HTTP
API, with real threads on real PostgreSQL.

Each round builds fresh rows, releases its requests at the same instant
(`run_concurrently`'s barrier, one APIClient and one database connection per
thread) and then checks three things: no request answered 500 (a refusal is
JSON with a `code`), the package's balances agree with its ledger and its
units (`package_reconcile`) and every unit agrees with its appointment
(`sessions_reconcile`), and the final state is one that running the same
requests one after the other could leave.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.signals import got_request_exception
from django.db import connection, connections, transaction
from django.test import Client
from django_scopes import scopes_disabled
from rest_framework.test import APIClient

from clinic.models import User
from clinic.tenancy import organization_scope
from packages.catalog.models import PackageTemplate, Service
from packages.patient_packages import ledger
from packages.patient_packages.ledger import package_reconcile
from packages.patient_packages.models import LedgerEntry, PackageUsage, PatientPackage
from patients.models import Patient
from scheduling import recurrence, services
from scheduling.locks import lock
from scheduling.models import Appointment, AppointmentSeries, EvolutionNote
from scheduling.package_sessions import sessions_reconcile
from tests.conftest import api_client, login
from tests.ledger.conftest import book_session, set_status
from tests.ledger.test_concurrency import run_concurrently
from tests.packages.factories import ServiceFactory, ServiceLimitFactory, make_template
from tests.patients.factories import PatientFactory
from tests.scheduling.conftest import SP, at

ROUNDS = 8
ONE_DAY = dt.timedelta(days=1)
LIVE = ("reserved", "debited")
D = Decimal

_slots = itertools.count()


def next_start() -> dt.datetime:
    """A start no other booking of this module takes (the test clinics' zone)."""
    return at(1, 7) + dt.timedelta(hours=next(_slots))


# Requests and their replies


@dataclass
class Reply:
    status: int
    body: Any = None
    crash: str = ""  # the traceback of an exception the view let through: a 500

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def outcome(self) -> str:
        """The status, and the code of a refusal: `200`, `204`, `400 package_debited`."""
        return str(self.status) if self.status < 400 else f"{self.status} {self.code}"

    @property
    def ok(self) -> bool:
        return self.status < 400


Request = tuple[APIClient, str, str, Any]  # client, method, url, JSON body


def _project_traceback(error: BaseException | None) -> str:
    """The exception and the project's own frames (not Django's or DRF's)."""
    if error is None:
        return ""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if "/.venv/" not in frame.filename]
    return "".join([*traceback.format_list(frames), *traceback.format_exception_only(error)])


# What a view let through, per thread. The test client's own record of it is
# not per thread (its `got_request_exception` receiver hears every thread's
# requests), so the clients answer 500 instead of raising, and the traceback
# is kept here by the thread that raised it.
_crash = threading.local()


def _remember_crash(sender: object, **kwargs: object) -> None:
    _crash.text = _project_traceback(sys.exc_info()[1])


@pytest.fixture(autouse=True)
def _crashes() -> Iterator[None]:
    got_request_exception.connect(_remember_crash, dispatch_uid=__name__)
    yield
    got_request_exception.disconnect(dispatch_uid=__name__)


def send(client: APIClient, method: str, url: str, data: Any = None) -> Reply:
    client.raise_request_exception = False
    _crash.text = ""
    response = getattr(client, method)(url, data, format="json")
    crash = _crash.text
    if response.get("Content-Type", "").startswith("application/json"):
        return Reply(response.status_code, response.json(), crash)
    return Reply(response.status_code, response.content.decode(errors="replace")[:500], crash)


def race(*requests: Request, delays: Sequence[float] = ()) -> list[Reply]:
    """Send the requests from one thread each, released at the same instant
    (request i `delays[i]` seconds later, to widen a window)."""

    def work(i: int) -> Reply:
        if i < len(delays) and delays[i]:
            time.sleep(delays[i])
        return send(*requests[i])

    replies = run_concurrently(work, len(requests))
    assert all(isinstance(reply, Reply) for reply in replies), replies
    return replies  # type: ignore[return-value]


def problem(reply: Reply, *allowed: str) -> str | None:
    """What is wrong with the reply, or None: never a 500, a refusal is JSON
    with a `code`, and the outcome is one of `allowed` (any, when empty)."""
    if reply.status >= 500:
        return f"{reply.status}:\n{reply.crash}" if reply.crash else f"{reply.status}: {reply.body!r}"
    if reply.status >= 400 and not (isinstance(reply.body, dict) and reply.body.get("code")):
        return f"{reply.status} without a JSON code: {reply.body!r}"
    if allowed and reply.outcome not in allowed:
        return f"{reply.outcome} not in {allowed}: {reply.body!r}"
    return None


def check(reply: Reply, *allowed: str) -> None:
    found = problem(reply, *allowed)
    assert found is None, found


# State


def appointment_url(appointment: Appointment | int) -> str:
    return f"/api/v1/appointments/{getattr(appointment, 'pk', appointment)}/"


def package_url(package: PatientPackage | int) -> str:
    return f"/api/v1/patient-packages/{getattr(package, 'pk', package)}/"


def fresh_package(package: PatientPackage | int) -> PatientPackage:
    with scopes_disabled():
        return PatientPackage.objects.get(pk=getattr(package, "pk", package))


def fresh_appointment(appointment: Appointment | int) -> Appointment | None:
    with scopes_disabled():
        return Appointment.objects.filter(pk=getattr(appointment, "pk", appointment)).first()


def unit_state(appointment: Appointment | int) -> tuple[int, str] | None:
    """(package, state) of the appointment's live unit, or None."""
    with scopes_disabled():
        return (
            PackageUsage.objects.filter(session=getattr(appointment, "pk", appointment), state__in=LIVE)
            .values_list("package_id", "state")
            .first()
        )


def balances(package: PatientPackage | int) -> tuple[int, int, Decimal]:
    """(booked, used, open value) of the package as stored."""
    current = fresh_package(package)
    return current.sessions_booked, current.sessions_used, current.amount_open


def drift(*packages: PatientPackage | int) -> dict[int, dict[str, Any]]:
    """Both reconciliations of each package; empty when everything agrees."""
    found: dict[int, dict[str, Any]] = {}
    for package in packages:
        current = fresh_package(package)
        with organization_scope(current.organization_id):
            differences = {
                **package_reconcile(current).differences,
                **{f"units: {k}": v for k, v in sessions_reconcile(current).differences.items()},
            }
        if differences:
            found[current.pk] = differences
    return found


def assert_reconciled(*packages: PatientPackage | int) -> None:
    assert drift(*packages) == {}


@pytest.fixture
def clients(alice) -> list[APIClient]:
    """Clients of alice (the owner: every permission), one per thread."""
    return [api_client(alice) for _i in range(4)]


# 1. Attended vs deleting the appointment's package


@pytest.mark.django_db(transaction=True)
def test_attended_and_deleting_its_package_at_once(clients, link) -> None:
    assert connection.vendor == "postgresql"
    for _round in range(ROUNDS):
        package = link(2, "200.00")
        appointment = book_session(package)
        attended, deleted = race(
            (clients[0], "patch", appointment_url(appointment), {"status": "attended", "confirm_future": True}),
            (clients[1], "delete", package_url(package), None),
        )
        check(attended, "200")
        check(deleted, "204", "400 package_debited")
        assert_reconciled(package)
        current = fresh_appointment(appointment)
        assert current is not None
        assert current.status == "attended"
        if deleted.ok:
            # Deleted first: the appointment was unlinked, then attended without a package.
            assert current.patient_package_id is None
            assert fresh_package(package).deleted_at is not None
            assert balances(package) == (0, 0, D("200.00"))
            assert unit_state(appointment) is None
        else:
            # Attended first: a debited package can only be deactivated.
            assert current.patient_package_id == package.pk
            assert fresh_package(package).deleted_at is None
            assert balances(package) == (0, 1, D("100.00"))
            assert unit_state(appointment) == (package.pk, "debited")


# 2. Deleting the appointment vs deleting its package


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", ["scheduled", "attended"])
def test_deleting_an_appointment_and_its_package_at_once(clients, link, status) -> None:
    for _round in range(ROUNDS):
        package = link(2, "200.00")
        appointment = book_session(package, status=status)
        appointment_deleted, package_deleted = race(
            (clients[0], "delete", appointment_url(appointment), None),
            (clients[1], "delete", package_url(package), None),
        )
        check(appointment_deleted, "204")
        # Whichever goes first, a package whose session was ever debited stays (K4).
        check(package_deleted, "204" if status == "scheduled" else "400 package_debited")
        assert_reconciled(package)
        assert fresh_appointment(appointment) is None
        assert (fresh_package(package).deleted_at is not None) == (status == "scheduled")
        assert balances(package) == (0, 0, D("200.00"))
        assert unit_state(appointment) is None


# 3. Two appointments moved between two packages in opposite directions


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("status", "sessions", "expected"),
    [
        ("scheduled", 2, "200"),
        ("attended", 2, "200"),
        # One session each: whichever goes first finds the other package full,
        # and so does the second one.
        ("scheduled", 1, "400 package_exhausted"),
    ],
)
def test_two_appointments_swap_packages_at_once(clients, link, status, sessions, expected) -> None:
    for _round in range(ROUNDS):
        first, second = link(sessions, "200.00"), link(sessions, "200.00")
        one = book_session(first, status=status)
        other = book_session(second, status=status)
        replies = race(
            (clients[0], "patch", appointment_url(one), {"patient_package": second.pk}),
            (clients[1], "patch", appointment_url(other), {"patient_package": first.pk}),
        )
        for reply in replies:
            check(reply, expected)
        assert_reconciled(first, second)
        moved = expected == "200"
        assert fresh_appointment(one).patient_package_id == (second.pk if moved else first.pk)  # type: ignore[union-attr]
        assert fresh_appointment(other).patient_package_id == (first.pk if moved else second.pk)  # type: ignore[union-attr]
        state = "debited" if status == "attended" else "reserved"
        assert unit_state(one) == (second.pk if moved else first.pk, state)
        assert unit_state(other) == (first.pk if moved else second.pk, state)
        each = (0, 1) if status == "attended" else (1, 0)
        for package in (first, second):
            assert balances(package)[:2] == each


# 4. Paying from the package vs cancelling the same appointment


@pytest.mark.django_db(transaction=True)
def test_debit_and_cancel_at_once_never_leave_a_cancelled_session_debited(clients, link) -> None:
    for _round in range(ROUNDS):
        package = link(2, "200.00")
        appointment = book_session(package)
        debited, cancelled = race(
            (clients[0], "post", f"{package_url(package)}debit/", {"appointment": appointment.pk}),
            (clients[1], "patch", appointment_url(appointment), {"status": "cancelled"}),
        )
        # Debit first: cancelling credits it back and releases it. Cancel
        # first: a released session has nothing to pay.
        check(debited, "200", "400 invalid_transition")
        check(cancelled, "200")
        assert_reconciled(package)
        current = fresh_appointment(appointment)
        assert current is not None
        assert (current.status, current.patient_package_id) == ("cancelled", package.pk)
        assert unit_state(appointment) is None
        assert balances(package) == (0, 0, D("200.00"))


# 4b. A manual change of the package vs deleting it


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", [{"sessions_total": 3}, {"status": "inactive"}], ids=["sessions", "deactivate"])
def test_manual_change_and_deleting_the_package_at_once(clients, link, change) -> None:
    """The change first: it is recorded, then the package is deleted. The
    deletion first: the change finds no package (404). Never a change of a
    deleted package, nor a 500. Later rounds start the change a little
    after the deletion, so that it reads the package before the deletion
    commits and asks for its lock while the deletion holds it."""
    problems: list[str] = []
    for delay in (0, 0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05):
        package = link(2, "200.00")
        book_session(package)
        seq = fresh_package(package).last_seq
        changed, deleted = race(
            (clients[0], "patch", package_url(package), change),
            (clients[1], "delete", package_url(package), None),
            delays=[delay, 0],
        )
        check(deleted, "204")
        assert_reconciled(package)
        with scopes_disabled():
            entries = list(LedgerEntry.objects.filter(package=package, seq__gt=seq).order_by("seq"))
        current = fresh_package(package)
        ledger_rows = [(e.kind, [c["field"] for c in e.details.get("changes", [])]) for e in entries]
        deletion = [("release", []), ("manual_change", ["deleted"])]  # its bookings released, then hidden
        legal = {
            "200": ([("manual_change", list(change)), *deletion], 3 if "sessions_total" in change else 2),
            "404 not_found": (deletion, 2),
        }
        found = problem(changed, *legal)
        if found is None and (ledger_rows, current.sessions_total) != legal[changed.outcome]:
            found = "not a serial outcome"
        if found is not None:
            problems.append(f"change {delay * 1000:.0f} ms later: {found}\n  ledger {ledger_rows}, "
                            f"sessions_total {current.sessions_total}")  # fmt: skip
        assert (current.deleted_at is not None, current.status) == (True, "inactive")
    assert problems == [], "\n".join(problems)


# 5-6. Twenty bookings at once against a budget limit


def _budget_race(alice: User, patient: Patient, service: Service, template: PackageTemplate) -> dict[str, Any]:
    """Book 20 sessions of `service` at once against a package of `template`
    (10 sessions, a limit of 3); returns the package's `budget` from the API."""
    with organization_scope(patient.organization_id):
        package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)
    assert package.sessions_total == 10
    requests: list[Request] = [
        (
            api_client(alice),
            "post",
            "/api/v1/appointments/",
            {
                "patient": patient.pk,
                "start": next_start().isoformat(),
                "services": [{"service": service.pk}],
                "patient_package": package.pk,
            },
        )
        for _i in range(20)
    ]
    replies = race(*requests)
    for reply in replies:
        check(reply, "201", "400 budget_exceeded")
    assert sorted(reply.outcome for reply in replies) == ["201"] * 3 + ["400 budget_exceeded"] * 17
    assert_reconciled(package)
    with scopes_disabled():
        linked = set(Appointment.objects.filter(patient_package=package).values_list("pk", flat=True))
    assert linked == {reply.body["id"] for reply in replies if reply.ok}
    assert balances(package) == (3, 0, D("1000.00"))
    response = api_client(alice).get(package_url(package))
    assert response.status_code == 200
    body = response.json()
    assert (body["sessions_booked"], body["sessions_available"]) == (3, 0)
    return body["budget"]


@pytest.mark.django_db(transaction=True)
def test_twenty_bookings_at_once_respect_max_appointments(alice, patient, tenant_a) -> None:
    service = ServiceFactory(clinic=tenant_a.central, name="Sessão limitada", price=D("100.00"))
    template = make_template(tenant_a.central, [(service, 10)], name="Dez, três por vez", max_appointments=3)
    budget = _budget_race(alice, patient, service, template)
    assert budget["tightest_percent"] == "100.0"
    assert budget["limits"] == [
        {"kind": "appointments", "service": None, "limit": "3", "used": "0", "booked": "3", "remaining": "0",
         "percent_used": "0.0", "percent_booked": "100.0", "level": "ok"},
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_twenty_bookings_at_once_respect_a_service_quantity_limit(alice, patient, tenant_a) -> None:
    service = ServiceFactory(clinic=tenant_a.central, name="Sessão com teto", price=D("100.00"))
    template = make_template(tenant_a.central, [(service, 10)], name="Dez, três da sessão")
    ServiceLimitFactory(template=template, service=service, max_quantity=3)
    budget = _budget_race(alice, patient, service, template)
    assert budget["tightest_percent"] == "100.0"
    assert budget["limits"] == [
        {"kind": "service_quantity", "service": service.pk, "limit": "3", "used": "0", "booked": "3",
         "remaining": "0", "percent_used": "0.0", "percent_booked": "100.0", "level": "ok"},
    ]  # fmt: skip


# 7. Ten bookings at once of a template's trigger service


@pytest.mark.django_db(transaction=True)
def test_ten_bookings_of_a_trigger_service_at_once_link_one_package(alice, patient, tenant_a, assessment,
                                                                    physio_service) -> None:  # fmt: skip
    template = make_template(
        tenant_a.central, [(assessment, 1), (physio_service, 7)], name="Avaliação + 7", price=D("800.00"),
        trigger_service=assessment,
    )  # fmt: skip
    requests: list[Request] = [
        (
            api_client(alice),
            "post",
            "/api/v1/appointments/",
            {"patient": patient.pk, "start": next_start().isoformat(), "services": [{"service": assessment.pk}]},
        )
        for _i in range(10)
    ]
    replies = race(*requests)
    for reply in replies:
        check(reply, "201", "400 package_exhausted")
    # Eight sessions: the first booking links the package, seven more join it,
    # the last two find it full.
    assert sorted(reply.outcome for reply in replies) == ["201"] * 8 + ["400 package_exhausted"] * 2
    with scopes_disabled():
        packages = list(PatientPackage.objects.filter(patient=patient))
        assert [p.template_id for p in packages] == [template.pk]
        package = packages[0]
        linked = set(Appointment.objects.filter(patient_package=package).values_list("pk", flat=True))
        assert Appointment.objects.filter(patient=patient).count() == 8
    assert {reply.body["patient_package"] for reply in replies if reply.ok} == {package.pk}
    assert linked == {reply.body["id"] for reply in replies if reply.ok}
    assert balances(package) == (8, 0, D("800.00"))
    assert_reconciled(package)


# 8. A PATCH that moves and changes the status is all or nothing (no threads)


@pytest.mark.django_db(transaction=True)
def test_a_refused_status_change_does_not_commit_the_move(clients, link) -> None:
    package = link(2, "200.00")
    cancelled = book_session(package)
    set_status(cancelled, "cancelled")
    scheduled = book_session(package)
    for appointment, status, expected in [
        (cancelled, "attended", "400 invalid_transition"),
        (scheduled, "no_such_status", "400 validation_error"),
    ]:
        before = fresh_appointment(appointment)
        assert before is not None
        moved = before.start + dt.timedelta(days=3)
        reply = send(clients[0], "patch", appointment_url(appointment), {"start": moved.isoformat(), "status": status})
        check(reply, expected)
        after = fresh_appointment(appointment)
        assert after is not None
        assert (after.start, after.end, after.status) == (before.start, before.end, before.status)
    assert unit_state(cancelled) is None
    assert unit_state(scheduled) == (package.pk, "reserved")
    assert balances(package) == (1, 0, D("200.00"))
    assert_reconciled(package)


@pytest.mark.django_db(transaction=True)
def test_a_refused_move_does_not_commit_the_status_change(clients, link, patient, therapist, physio_service) -> None:
    package = link(2, "200.00")
    with organization_scope(patient.organization_id):
        taken = services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(2, 9), professional=therapist, actor=None,
            lines=[services.LineInput(physio_service)],
        ).appointment  # fmt: skip
        appointment = services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(2, 11), professional=therapist, actor=None,
            lines=[services.LineInput(physio_service)], patient_package=package,
        ).appointment  # fmt: skip
    seq = fresh_package(package).last_seq
    reply = send(
        clients[0],
        "patch",
        appointment_url(appointment),
        {"start": at(2, 9, 20).isoformat(), "status": "attended", "confirm_future": True},
    )
    check(reply, "409 double_booking")
    assert reply.body["fields"]["conflict"] == [str(taken.pk)]
    after = fresh_appointment(appointment)
    assert after is not None
    assert (after.start, after.status, after.patient_package_id) == (at(2, 11), "scheduled", package.pk)
    assert unit_state(appointment) == (package.pk, "reserved")
    assert balances(package) == (1, 0, D("200.00"))
    assert fresh_package(package).last_seq == seq  # nothing written to the ledger
    assert_reconciled(package)


# 9. The matrix: two operations at once on the same appointment of the same package


@dataclass(frozen=True)
class Case:
    appointment: int
    package: int
    start: dt.datetime
    sessions_total: int
    seq: int  # the package's last ledger entry before the operations


def _patch_appointment(fields: dict[str, Any]) -> Callable[[Case], tuple[str, str, Any]]:
    return lambda case: ("patch", appointment_url(case.appointment), fields)


OPERATIONS: dict[str, Callable[[Case], tuple[str, str, Any]]] = {
    "attended": _patch_appointment({"status": "attended", "confirm_future": True}),
    "justified_absence": _patch_appointment({"status": "justified_absence"}),
    "scheduled": _patch_appointment({"status": "scheduled"}),
    "move": lambda c: ("patch", appointment_url(c.appointment), {"start": (c.start + ONE_DAY).isoformat()}),
    "delete_appointment": lambda c: ("delete", appointment_url(c.appointment), None),
    "debit": lambda c: ("post", f"{package_url(c.package)}debit/", {"appointment": c.appointment}),
    "credit": lambda c: ("post", f"{package_url(c.package)}credit/", {"appointment": c.appointment}),
    "change_sessions": lambda c: ("patch", package_url(c.package), {"sessions_total": c.sessions_total + 1}),
    "deactivate": lambda c: ("patch", package_url(c.package), {"status": "inactive"}),
    "delete_package": lambda c: ("delete", package_url(c.package), None),
    "evolution_note": lambda c: ("post", f"{appointment_url(c.appointment)}evolution-notes/", {"text": "Evoluiu."}),
}
# Left out to keep the matrix under a minute: pairs that take the same entry
# point, queue on the same first lock (the appointment's row, or for the two
# manual changes the package's) and only repeat or swap an idempotent step.
# Two "attended" at once are tests/ledger/test_concurrency.py's 20 threads.
LEFT_OUT = {
    ("attended", "attended"),
    ("justified_absence", "justified_absence"),
    ("scheduled", "scheduled"),
    ("move", "move"),
    ("justified_absence", "scheduled"),
    ("scheduled", "move"),
    ("change_sessions", "change_sessions"),
    ("deactivate", "deactivate"),
}
PAIRS = [pair for pair in itertools.combinations_with_replacement(OPERATIONS, 2) if pair not in LEFT_OUT]
START_STATES = ("scheduled", "attended")
# The concurrent rounds: the appointment's state before the two operations,
# and how long the first operation waits after the barrier. The late start
# makes it arrive while the second holds its locks: a check made before
# taking a lock goes stale just then.
MATRIX_ROUNDS = [("scheduled", 0.0), ("scheduled", 0.01), ("attended", 0.0)]


def _case(link: Callable[..., PatientPackage], start_state: str) -> Case:
    package = link(4, "400.00")
    appointment = book_session(package, start=next_start())
    if start_state != "scheduled":
        set_status(appointment, start_state)
    package = fresh_package(package)
    return Case(appointment.pk, package.pk, appointment.start, package.sessions_total, package.last_seq)


def _final_state(case: Case) -> tuple[Any, ...]:
    """What the operations left, relative to the case, so that two cases compare."""
    appointment = fresh_appointment(case.appointment)
    package = fresh_package(case.package)
    unit = unit_state(case.appointment)
    with scopes_disabled():
        kinds = tuple(
            LedgerEntry.objects.filter(package_id=case.package, seq__gt=case.seq)
            .order_by("seq")
            .values_list("kind", flat=True)
        )
    return (
        None
        if appointment is None
        else (
            appointment.status,
            appointment.start - case.start,
            appointment.patient_package_id == case.package,
            appointment.paid_from_package,
        ),
        (
            package.deleted_at is not None,
            package.status,
            package.sessions_total - case.sessions_total,
            package.sessions_booked,
            package.sessions_used,
            package.amount_open,
        ),
        None if unit is None else (unit[0] == case.package, unit[1]),
        kinds,
    )


def _requests(clients: list[APIClient], case: Case, operations: tuple[str, ...]) -> list[Request]:
    return [(clients[i], *OPERATIONS[name](case)) for i, name in enumerate(operations)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
def test_two_operations_at_once_on_one_appointment(clients, link, first, second) -> None:
    """Run the pair one after the other, in both orders, to learn the legal
    outcomes; then at once: every reply is a clear answer, both
    reconciliations hold, and the outcome (who succeeded, and the state left)
    is one of the serial ones."""
    problems: list[str] = []
    orders = list(dict.fromkeys([(first, second), (second, first)]))
    # The serial runs touch rows of their own: they run side by side, each
    # one's two requests one after the other, to keep the matrix fast.
    serial = [(state, order, _case(link, state)) for state in START_STATES for order in orders]
    runs = run_concurrently(
        lambda i: [send(*request) for request in _requests([clients[i]] * 2, serial[i][2], serial[i][1])], len(serial)
    )
    legal: dict[str, dict[tuple[Any, ...], list[str]]] = {state: {} for state in START_STATES}
    for (state, order, case), replies in zip(serial, runs, strict=True):
        assert isinstance(replies, list), replies
        if order != (first, second):
            replies.reverse()
        problems += [f"{state}, serial {order}: {p}" for r in replies if (p := problem(r))]
        if found := drift(case.package):
            problems.append(f"{state}, serial {order}: drift {found}")
        final = _final_state(case)
        legal[state][(tuple(r.ok for r in replies), final)] = [r.outcome for r in replies]
        if first == second:  # either thread may be the one that goes first
            legal[state][(tuple(r.ok for r in reversed(replies)), final)] = [r.outcome for r in reversed(replies)]
    for state, delay in MATRIX_ROUNDS:
        case = _case(link, state)
        replies = race(*_requests(clients, case, (first, second)), delays=[delay, 0])
        name = f"{state}, at once ({first} {delay * 1000:.0f} ms late)"
        problems += [f"{name}: {p}" for r in replies if (p := problem(r))]
        if found := drift(case.package):
            problems.append(f"{name}: drift {found}")
        outcome = (tuple(r.ok for r in replies), _final_state(case))
        if outcome not in legal[state]:
            serial_outcomes = [(codes, final) for (_ok, final), codes in legal[state].items()]
            problems.append(
                f"{name}: {[r.outcome for r in replies]} left {outcome[1]}, not a serial outcome: {serial_outcomes}"
            )
    assert problems == [], "\n".join(problems)


def _waiting_on_a_lock() -> int:
    """Backends of this database waiting for a row lock now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_attending_while_the_appointment_moves_to_another_package_debits_the_new_one(link, alice) -> None:
    """The status change locks the appointment and its package in one
    statement. Held up by a move to another package, it wakes to a join that
    no longer matches (PostgreSQL checks it again on the moved row) and takes
    the rows one by one: the new package is debited, the old one is left as
    the move left it."""
    old, new = link(4, "400.00"), link(4, "800.00")
    appointment = book_session(old, start=next_start())
    moved, commit = threading.Event(), threading.Event()

    def move() -> None:
        try:
            with organization_scope(appointment.organization_id), transaction.atomic():
                locked = lock(appointments=[appointment.pk], packages=[new.pk])
                services.update(locked.appointment(appointment.pk), locked=locked, actor=alice, patient_package=new)
                moved.set()
                commit.wait(timeout=30)
        finally:
            connections.close_all()

    mover = threading.Thread(target=move)
    mover.start()
    assert moved.wait(timeout=30)
    attended: list[object] = []

    def attend() -> None:
        try:
            with organization_scope(appointment.organization_id):
                attended.append(services.appointment_set_status(appointment=appointment, status="attended",
                                                                actor=alice, confirm_future=True))  # fmt: skip
        except Exception as error:  # asserted below
            attended.append(error)
        finally:
            connections.close_all()

    attender = threading.Thread(target=attend)
    attender.start()
    deadline = time.monotonic() + 30
    while _waiting_on_a_lock() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the status change waits for the mover's lock (no fixed sleep)
    waited = _waiting_on_a_lock()
    commit.set()
    mover.join(timeout=30)
    attender.join(timeout=30)
    assert waited == 1
    assert len(attended) == 1, attended
    assert isinstance(attended[0], Appointment), attended
    current = fresh_appointment(appointment)
    assert current is not None
    assert (current.status, current.patient_package_id) == ("attended", new.pk)
    assert unit_state(appointment) == (new.pk, "debited")
    assert balances(old) == (0, 0, D("400.00"))
    assert balances(new) == (0, 1, D("600.00"))
    assert_reconciled(old, new)


# 10. Entry points the pairs above leave out: a recurring series, "this and
# the following", renewal, two evolution notes, and the pages.

Call = Callable[[], Reply]


def race_calls(*calls: Call, delays: Sequence[float] = ()) -> list[Reply]:
    """`race` for any calls that answer a `Reply`: pages as well as the API."""

    def work(i: int) -> Reply:
        if i < len(delays) and delays[i]:
            time.sleep(delays[i])
        return calls[i]()

    replies = run_concurrently(work, len(calls))
    assert all(isinstance(reply, Reply) for reply in replies), replies
    return replies  # type: ignore[return-value]


def api(client: APIClient, method: str, url: str, data: Any = None) -> Call:
    return lambda: send(client, method, url, data)


def page_client(user: User) -> Client:
    client = login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _page_errors(html: str) -> list[str]:
    """The form's errors on a page: on top of the form, then on its fields."""
    top = re.search(r'data-testid="form-errors">((?:<div>.*?</div>)*)</div>', html, re.S)
    errors = re.findall(r"<div>(.*?)</div>", top.group(1), re.S) if top else []
    return errors + re.findall(r'class="invalid-feedback d-block[^"]*">(.*?)</div>', html, re.S)


def post_page(client: Client, url: str, data: dict[str, Any] | None = None) -> Reply:
    """POST a page's form. The body is the htmx event the page triggered
    (`HX-Trigger`), the redirect, or the form's errors."""
    client.raise_request_exception = False
    _crash.text = ""
    response = client.post(url, data or {})
    crash = _crash.text
    if response.get("HX-Trigger"):
        return Reply(response.status_code, json.loads(response["HX-Trigger"]), crash)
    if response.status_code in (301, 302):
        return Reply(response.status_code, {"location": response["Location"]}, crash)
    html = response.content.decode(errors="replace")
    return Reply(response.status_code, {"errors": _page_errors(html), "page": html[:300]}, crash)


def page(client: Client, url: str, data: dict[str, Any] | None = None) -> Call:
    return lambda: post_page(client, url, data)


_series_blocks = itertools.count()


def next_series_start() -> dt.datetime:
    """A Monday 08:00 starting six weeks no other series of this module takes."""
    return at(4, 8, month=1, year=2027) + dt.timedelta(weeks=6 * next(_series_blocks))


def series_form(patient: Patient, service: Service, start: dt.datetime, count: int, *,
                package: PatientPackage | None = None, professional: Any = None) -> dict[str, Any]:  # fmt: skip
    """The calendar's booking form for a weekly series, confirmed (no preview)."""
    return {
        "patient": patient.pk, "status": "scheduled", "professional": professional.pk if professional else "",
        "room": "", "start": start.astimezone(SP).strftime("%Y-%m-%dT%H:%M"), "end": "",
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1", "lines-MAX_NUM_FORMS": "20",
        "lines-0-service": service.pk, "lines-0-quantity": "1", "lines-0-price": "",
        "patient_package": package.pk if package else "", "authorization": "", "notes": "",
        "repeat": "on", "interval": "1", "count": str(count), "confirm_series": "1",
    }  # fmt: skip


def series_saved(reply: Reply, count: int, patient: Patient) -> bool:
    """Whether the calendar booked the series (its toast), or refused it with
    form errors; anything else is a problem."""
    found = problem(reply)
    assert found is None, f"series: {found}"
    assert reply.status == 200, reply
    event = reply.body.get("appointmentSaved") if isinstance(reply.body, dict) else None
    if event is not None:
        assert event["message"] == f"{count} sessions booked for {patient.full_name}.", event
        return True
    assert reply.body.get("errors"), f"series neither booked nor refused with an error: {reply.body!r}"
    return False


def weekly(start: dt.datetime, count: int) -> list[dt.datetime]:
    return [start + dt.timedelta(weeks=week) for week in range(count)]


def series_rows(patient: Patient, starts: Sequence[dt.datetime]) -> list[Appointment]:
    """The patient's appointments of a series at those starts."""
    with scopes_disabled():
        return list(
            Appointment.objects.filter(patient=patient, series__isnull=False, start__in=starts).order_by("start")
        )


def series_count() -> int:
    with scopes_disabled():
        return AppointmentSeries.objects.count()


def ledger_kinds(package: PatientPackage | int, after: int = 0) -> list[str]:
    with scopes_disabled():
        return list(
            LedgerEntry.objects.filter(package_id=getattr(package, "pk", package), seq__gt=after)
            .order_by("seq")
            .values_list("kind", flat=True)
        )


# 10a. A series booked on the calendar against a package vs the entry points
# that lock that package. Three weekly sessions; each opponent's outcome,
# the package's (total, booked, used) and its status, when the series went
# first (True) or second (False).

SERIES_OPPONENTS: dict[str, dict[bool, tuple[str, tuple[int, int, int], str]]] = {
    # Deleted after: the series' sessions are released and unlinked. Before: the series finds no package.
    "delete_package": {True: ("204", (3, 0, 0), "inactive"), False: ("204", (3, 0, 0), "inactive")},
    "deactivate": {True: ("200", (3, 3, 0), "inactive"), False: ("200", (3, 0, 0), "inactive")},
    # Three sessions booked: the package cannot go down to two. Down to two first: the third date fails.
    "change_sessions": {True: ("400 validation_error", (3, 3, 0), "active"), False: ("200", (2, 0, 0), "active")},
    "book_one": {True: ("400 package_exhausted", (3, 3, 0), "active"), False: ("201", (3, 1, 0), "active")},
    # Four sessions: one booked before the race, attended during it; the series always fits.
    "attend_other": {True: ("200", (4, 3, 1), "active")},
}
SERIES_DELAYS = [(0.0, 0.0), (0.0, 0.02), (0.0, 0.05), (0.02, 0.0)]  # (series, opponent) seconds late


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("opponent", SERIES_OPPONENTS)
def test_a_series_against_a_package_and_another_entry_point_at_once(alice, clients, link, patient, physio_service,
                                                                     opponent) -> None:  # fmt: skip
    """All or nothing: the three dates are booked, or none is (and no
    series row is left); never a 500; both reconciliations hold; the outcome
    is the one of the series going first or second."""
    expected = SERIES_OPPONENTS[opponent]
    calendar = page_client(alice)
    problems: list[str] = []
    for series_delay, opponent_delay in SERIES_DELAYS:
        package = link(4 if opponent == "attend_other" else 3, "300.00")
        other = book_session(package) if opponent == "attend_other" else None
        start = next_series_start()
        series_before = series_count()
        one = {"patient": patient.pk, "start": next_start().isoformat(), "services": [{"service": physio_service.pk}],
               "patient_package": package.pk}  # fmt: skip
        opponents: dict[str, Call] = {
            "delete_package": api(clients[1], "delete", package_url(package)),
            "deactivate": api(clients[1], "patch", package_url(package), {"status": "inactive"}),
            "change_sessions": api(clients[1], "patch", package_url(package), {"sessions_total": 2}),
            "book_one": api(clients[1], "post", "/api/v1/appointments/", one),
            "attend_other": api(
                clients[1], "patch", appointment_url(other or 0), {"status": "attended", "confirm_future": True}
            ),
        }
        series, answer = race_calls(
            page(calendar, "/calendar/book/", series_form(patient, physio_service, start, 3, package=package)),
            opponents[opponent],
            delays=[series_delay, opponent_delay],
        )
        name = f"series {series_delay * 1000:.0f} ms / {opponent} {opponent_delay * 1000:.0f} ms late"
        saved = series_saved(series, 3, patient)
        rows = series_rows(patient, weekly(start, 3))
        if found := problem(answer):
            problems.append(f"{name}: {opponent}: {found}")
        if found := drift(package):
            problems.append(f"{name}: drift {found}")
        if len(rows) != (3 if saved else 0) or series_count() - series_before != (1 if saved else 0):
            problems.append(f"{name}: not all or nothing: saved={saved}, {len(rows)} appointments, "
                            f"{series_count() - series_before} series rows; {series.body!r}")  # fmt: skip
        if saved not in expected:
            problems.append(f"{name}: the series was {'booked' if saved else 'refused'}: {series.body!r}")
            continue
        current = fresh_package(package)
        linked = {row.patient_package_id for row in rows}
        sessions = (current.sessions_total, current.sessions_booked, current.sessions_used)
        state = (answer.outcome, sessions, current.status)
        if state != expected[saved]:
            problems.append(f"{name}: series {'booked' if saved else 'refused'}, left {state}, not {expected[saved]}: "
                            f"{answer.body!r} / {series.body!r}")  # fmt: skip
        if rows and linked != ({None} if opponent == "delete_package" else {package.pk}):
            problems.append(f"{name}: the series' appointments are linked to {linked}")
        if opponent == "delete_package" and fresh_package(package).deleted_at is None:
            problems.append(f"{name}: the package was not deleted")
    assert problems == [], "\n".join(problems)


# 10b. Two series of two patients on the same professional's same hours


@pytest.mark.django_db(transaction=True)
def test_two_colliding_series_of_two_patients_at_once(alice, link, patient, physio_service, therapist,
                                                      tenant_a) -> None:  # fmt: skip
    """Each waits on the other's new rows (the exclusion constraint). Exactly
    one series is booked, whole; the other is refused with its dates named,
    nothing of it kept; the professional has no overlapping appointments."""
    other_patient = PatientFactory(clinic=tenant_a.central, full_name="Joana Série")
    calendars = [page_client(alice), page_client(alice)]
    problems: list[str] = []
    # B's series starts that many weeks and minutes after A's: 3, 2 or 1 dates collide.
    for weeks, minutes, delay in [(0, 0, 0.0), (1, 0, 0.0), (2, 20, 0.0), (0, 30, 0.01), (1, 20, 0.02)]:
        first_start = next_series_start()
        second_start = first_start + dt.timedelta(weeks=weeks, minutes=minutes)
        packages = [link(4, "400.00"), link(4, "400.00", patient=other_patient)]
        series_before = series_count()
        replies = race_calls(
            page(calendars[0], "/calendar/book/",
                 series_form(patient, physio_service, first_start, 3, package=packages[0], professional=therapist)),
            page(calendars[1], "/calendar/book/",
                 series_form(other_patient, physio_service, second_start, 3, package=packages[1],
                             professional=therapist)),
            delays=[0, delay],
        )  # fmt: skip
        name = f"B {weeks} weeks {minutes} min later, {delay * 1000:.0f} ms late"
        saved = [series_saved(replies[0], 3, patient), series_saved(replies[1], 3, other_patient)]
        rows = [series_rows(patient, weekly(first_start, 3)), series_rows(other_patient, weekly(second_start, 3))]
        if saved.count(True) != 1:
            problems.append(f"{name}: {saved.count(True)} series booked: {[r.body for r in replies]!r}")
        for booked, found_rows, package in zip(saved, rows, packages, strict=True):
            if len(found_rows) != (3 if booked else 0):
                problems.append(f"{name}: booked={booked} but {len(found_rows)} appointments")
            if balances(package)[:2] != ((3 if booked else 0), 0):
                problems.append(f"{name}: package {package.pk} holds {balances(package)}, booked={booked}")
            if found := drift(package):
                problems.append(f"{name}: drift {found}")
        if series_count() - series_before != saved.count(True):
            problems.append(f"{name}: {series_count() - series_before} series rows for {saved.count(True)} booked")
        for reply, booked in zip(replies, saved, strict=True):
            if not booked and not any("already" in error.lower() or "taken" in error.lower()
                                      for error in reply.body["errors"]):  # fmt: skip
                problems.append(f"{name}: refused without naming the taken dates: {reply.body['errors']}")
    with scopes_disabled():
        slots = list(
            Appointment.objects.filter(professional=therapist, holds_slot=True)
            .order_by("start")
            .values_list("start", "end")
        )
    overlaps = [(a, b) for a, b in itertools.pairwise(slots) if b[0] < a[1]]
    assert overlaps == []
    assert problems == [], "\n".join(problems)


# 10c. "This and the following" on a series linked to a package


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("opponent", ["attend_following", "delete_following", "delete_package"])
def test_this_and_the_following_and_another_entry_point_at_once(clients, link, patient, physio_service,
                                                                opponent) -> None:  # fmt: skip
    """Four weekly sessions against a four-session package; the second and
    the following move to 14:30 while the third is attended or deleted, or
    the package deleted. Both always succeed; every remaining occurrence
    from the second on is at 14:30 (all or nothing), the first stays."""
    problems: list[str] = []
    for following_delay, opponent_delay in [(0.0, 0.0), (0.0, 0.01), (0.01, 0.0)]:
        package = link(4, "400.00")
        start = next_series_start()
        with organization_scope(patient.organization_id):
            bookings = recurrence.appointment_book_series(
                rule=recurrence.Recurrence(first=start, count=4), clinic=patient.clinic, patient=patient,
                lines=[services.LineInput(physio_service)], actor=None, patient_package=package,
            )  # fmt: skip
        occurrences = [booking.appointment for booking in bookings]
        third = occurrences[2]
        opponents = {
            "attend_following": api(
                clients[1], "patch", appointment_url(third), {"status": "attended", "confirm_future": True}
            ),
            "delete_following": api(clients[1], "delete", appointment_url(third)),
            "delete_package": api(clients[1], "delete", package_url(package)),
        }
        moved, answer = race_calls(
            api(clients[0], "post", f"{appointment_url(occurrences[1])}following/", {"time": "14:30"}),
            opponents[opponent],
            delays=[following_delay, opponent_delay],
        )
        name = f"following {following_delay * 1000:.0f} ms / {opponent} {opponent_delay * 1000:.0f} ms late"
        for reply, allowed in [(moved, "200"), (answer, "204" if opponent.startswith("delete") else "200")]:
            if found := problem(reply, allowed):
                problems.append(f"{name}: {found}")
        if found := drift(package):
            problems.append(f"{name}: drift {found}")
        current = [fresh_appointment(occurrence) for occurrence in occurrences]
        times = [None if a is None else a.start.astimezone(SP).time().isoformat("minutes") for a in current]
        wanted = ["08:00", "14:30", None if opponent == "delete_following" else "14:30", "14:30"]
        if times != wanted:
            problems.append(f"{name}: the occurrences are at {times}, not {wanted}")
        state = (fresh_package(package).deleted_at is not None, balances(package)[:2],
                 [unit_state(occurrence) for occurrence in occurrences])  # fmt: skip
        reserved = (package.pk, "reserved")
        wanted_state = {
            "attend_following": (False, (3, 1), [reserved, reserved, (package.pk, "debited"), reserved]),
            "delete_following": (False, (3, 0), [reserved, reserved, None, reserved]),
            "delete_package": (True, (0, 0), [None] * 4),
        }[opponent]
        if state != wanted_state:
            problems.append(f"{name}: left {state}, not {wanted_state}")
    assert problems == [], "\n".join(problems)


# 10d. Renewing a monthly package vs the entry points that lock it


@pytest.fixture
def monthly_template(tenant_a) -> PackageTemplate:
    """`tests.ledger.conftest.catalog_monthly`: a monthly Pilates plan of 8 sessions for 480.00."""
    pilates = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=D("60.00"))
    return make_template(tenant_a.central, [(pilates, 8)], name="Pilates 2x", price=D("480.00"), renewal="monthly")


def _renew_operations(clients: list[APIClient], package: PatientPackage) -> dict[str, Call]:
    service = package.terms["items"][0]["service"]
    booking = {"patient": package.patient_id, "start": next_start().isoformat(), "services": [{"service": service}],
               "patient_package": package.pk}  # fmt: skip
    return {
        "renew": api(clients[0], "post", f"{package_url(package)}renew/"),
        "change_sessions": api(clients[1], "patch", package_url(package), {"sessions_total": 6}),
        "deactivate": api(clients[1], "patch", package_url(package), {"status": "inactive"}),
        "delete_package": api(clients[1], "delete", package_url(package)),
        "book": api(clients[1], "post", "/api/v1/appointments/", booking),
        "renew_again": api(clients[1], "post", f"{package_url(package)}renew/"),
    }


def _renewal_state(package: PatientPackage) -> tuple[Any, ...]:
    current = fresh_package(package)
    with scopes_disabled():
        periods = list(
            LedgerEntry.objects.filter(package=package, kind="renewal").order_by("seq").values_list("period", flat=True)
        )
    return (
        current.deleted_at is not None,
        current.status,
        (current.sessions_total, current.sessions_booked, current.sessions_used),
        (current.amount_total, current.amount_open),
        current.renewed_through,
        tuple(periods),
        tuple(ledger_kinds(package, 1)),
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("opponent", ["change_sessions", "deactivate", "delete_package", "book", "renew_again"])
def test_renewing_a_monthly_package_and_another_entry_point_at_once(alice, clients, patient, monthly_template,
                                                                    opponent) -> None:  # fmt: skip
    """Run the pair one after the other, in both orders, to learn the legal
    outcomes; then at once. Two renewals at once renew two different
    months, as two in a row do: never the same month twice."""

    def monthly() -> PatientPackage:
        with organization_scope(patient.organization_id):
            return ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=monthly_template)

    legal: dict[tuple[Any, ...], list[str]] = {}
    problems: list[str] = []
    for order in [("renew", opponent), (opponent, "renew")]:
        package = monthly()
        operations = _renew_operations(clients, package)
        replies = [operations[name]() for name in order]
        if order[0] != "renew":
            replies.reverse()
        problems += [f"serial {order}: {p}" for r in replies if (p := problem(r))]
        if found := drift(package):
            problems.append(f"serial {order}: drift {found}")
        legal[(tuple(r.outcome for r in replies), _renewal_state(package))] = list(order)
        if opponent == "renew_again":  # either may be the one that goes first
            break
    for delays in [(0.0, 0.0), (0.0, 0.005), (0.005, 0.0), (0.02, 0.0)]:
        package = monthly()
        operations = _renew_operations(clients, package)
        replies = race_calls(operations["renew"], operations[opponent], delays=delays)
        name = f"at once (renew {delays[0] * 1000:.0f} ms, {opponent} {delays[1] * 1000:.0f} ms late)"
        problems += [f"{name}: {p}" for r in replies if (p := problem(r))]
        if found := drift(package):
            problems.append(f"{name}: drift {found}")
        outcome = (tuple(r.outcome for r in replies), _renewal_state(package))
        periods = outcome[1][5]
        if len(set(periods)) != len(periods):
            problems.append(f"{name}: a month renewed twice: {periods}")
        if opponent == "renew_again" and outcome not in legal:
            outcome = (outcome[0][::-1], outcome[1])
        if outcome not in legal:
            problems.append(f"{name}: {outcome}, not a serial outcome: {list(legal)}")
    assert problems == [], "\n".join(problems)


# 10e. The pages: the calendar's status button vs the package's delete page


@pytest.mark.django_db(transaction=True)
def test_the_status_button_and_the_package_delete_page_at_once(alice, link, patient) -> None:
    """Test 1 through the pages: they go through the same entry points, and
    neither page answers 500."""
    pages = [page_client(alice), page_client(alice)]
    problems: list[str] = []
    for status_delay, delete_delay in [(0.0, 0.0), (0.0, 0.0), (0.0, 0.01), (0.01, 0.0), (0.0, 0.02)]:
        package = link(2, "200.00")
        appointment = book_session(package)
        attended, deleted = race_calls(
            page(
                pages[0],
                f"/calendar/appointments/{appointment.pk}/status/",
                {"status": "attended", "confirm_future": "1"},
            ),
            page(pages[1], f"/patients/{patient.pk}/packages/{package.pk}/delete/"),
            delays=[status_delay, delete_delay],
        )
        name = f"status {status_delay * 1000:.0f} ms / delete {delete_delay * 1000:.0f} ms late"
        problems += [f"{name}: {p}" for r in (attended, deleted) if (p := problem(r))]
        if not (attended.status == 200 and isinstance(attended.body, dict) and "calendarChanged" in attended.body):
            problems.append(f"{name}: the status button did not change the status: {attended.body!r}")
        if deleted.status != 302:
            problems.append(f"{name}: the delete page answered {deleted.status}: {deleted.body!r}")
        if found := drift(package):
            problems.append(f"{name}: drift {found}")
        current = fresh_appointment(appointment)
        assert current is not None
        gone = fresh_package(package).deleted_at is not None
        # Deleted first: attended without a package. Attended first: the package stays (package_debited).
        state = (current.status, current.patient_package_id, balances(package), unit_state(appointment))
        wanted = (
            ("attended", None, (0, 0, D("200.00")), None)
            if gone
            else ("attended", package.pk, (0, 1, D("100.00")), (package.pk, "debited"))
        )
        if state != wanted:
            problems.append(f"{name}: deleted={gone}, left {state}, not {wanted}")
    assert problems == [], "\n".join(problems)


# 10f. Two evolution notes at once on the same session


@pytest.mark.django_db(transaction=True)
def test_two_first_evolution_notes_at_once_debit_once(clients, link) -> None:
    problems: list[str] = []
    for delay in (0.0, 0.0, 0.005, 0.01):
        package = link(2, "200.00")
        appointment = book_session(package)
        url = f"{appointment_url(appointment)}evolution-notes/"
        replies = race_calls(
            api(clients[0], "post", url, {"text": "Primeira nota."}),
            api(clients[1], "post", url, {"text": "Segunda nota."}),
            delays=[0, delay],
        )
        name = f"second note {delay * 1000:.0f} ms late"
        problems += [f"{name}: {p}" for r in replies if (p := problem(r, "200"))]
        if found := drift(package):
            problems.append(f"{name}: drift {found}")
        with scopes_disabled():
            notes = EvolutionNote.objects.filter(appointment=appointment).count()
        current = fresh_appointment(appointment)
        state = (notes, current.status if current else None, ledger_kinds(package).count("debit"), balances(package))
        wanted = (2, "attended", 1, (0, 1, D("100.00")))
        if state != wanted:
            problems.append(f"{name}: left {state}, not {wanted}")
    assert problems == [], "\n".join(problems)
