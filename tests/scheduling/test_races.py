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
from django.db import connection
from django_scopes import scopes_disabled
from rest_framework.test import APIClient

from clinic.models import User
from clinic.tenancy import organization_scope
from packages.catalog.models import PackageTemplate, Service
from packages.patient_packages import ledger
from packages.patient_packages.ledger import package_reconcile
from packages.patient_packages.models import LedgerEntry, PackageUsage, PatientPackage
from patients.models import Patient
from scheduling import services
from scheduling.models import Appointment
from scheduling.package_sessions import sessions_reconcile
from tests.conftest import api_client
from tests.ledger.conftest import book_session, set_status
from tests.ledger.test_concurrency import run_concurrently
from tests.packages.factories import ServiceFactory, ServiceLimitFactory, make_template
from tests.scheduling.conftest import at

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
            (clients[0], "patch", appointment_url(appointment), {"status": "attended"}),
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
        clients[0], "patch", appointment_url(appointment), {"start": at(2, 9, 20).isoformat(), "status": "attended"}
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
    "attended": _patch_appointment({"status": "attended"}),
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
