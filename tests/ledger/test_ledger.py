"""Every entry kind and the balances after it; idempotency; status; manual
changes; renewal; immutability; reconciliation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic import money
from clinic.errors import ApplicationError, ValidationFailed
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.errors import (
    AppointmentHasOtherPackage,
    PackageExhausted,
    PackageInactive,
)
from packages.patient_packages.models import LedgerEntry, PackageUsage, PatientPackage

D = Decimal


def balances(package: PatientPackage) -> tuple:
    package.refresh_from_db()
    return (
        package.status,
        package.sessions_total,
        package.sessions_booked,
        package.sessions_used,
        package.sessions_remaining,
        package.sessions_available,
        package.amount_total,
        package.amount_open,
    )


def entries(package: PatientPackage) -> list[tuple]:
    with scopes_disabled():
        return [
            (e.kind, e.status, e.sessions_balance, e.amount_open, e.average_price)
            for e in LedgerEntry.objects.filter(package=package).order_by("seq")
        ]


def assert_reconciled(package: PatientPackage) -> None:
    package.refresh_from_db()
    with organization_scope(package.organization_id):
        assert ledger.package_reconcile(package).differences == {}


@pytest.fixture
def scope(tenant_a):
    with organization_scope(tenant_a.organization):
        yield


@pytest.mark.django_db
def test_money_rounding_1000_over_3() -> None:
    assert money.session_prices(D("1000.00"), 3) == [D("333.33"), D("333.33"), D("333.34")]
    assert money.next_session_value(D("1000.00"), 3) == D("333.33")
    assert money.next_session_value(D("666.67"), 2) == D("333.33")
    assert money.next_session_value(D("333.34"), 1) == D("333.34")
    assert money.average(D("1000.00"), 3) == D("333.33")


@pytest.mark.django_db
def test_link_direct_package_numbers_and_created_entry(link, tenant_a) -> None:
    first, second = link(5, "1000.00"), link(3, "1000.00")
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"{year}-00001", f"{year}-00002")
    assert balances(first) == ("active", 5, 0, 0, 5, 5, D("1000.00"), D("1000.00"))
    assert entries(first) == [("created", "active", 5, D("1000.00"), D("200.00"))]
    assert first.average_price == D("200.00")
    assert_reconciled(first)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sessions", "total", "fields"),
    [
        (0, "100.00", {"sessions": ["The number of sessions must be at least 1."]}),
        (-2, "100.00", {"sessions": ["The number of sessions must be at least 1."]}),
        (3, "-1.00", {"total_price": ["The amount cannot be negative."]}),
        (3, "10.001", {"total_price": ["Use at most two decimal places."]}),
    ],
)
def test_link_refuses_bad_values_and_writes_nothing(link, sessions, total, fields) -> None:
    with pytest.raises(ValidationFailed) as error:
        link(sessions, total)
    assert error.value.fields == fields
    with scopes_disabled():
        assert PatientPackage.objects.count() == 0
        assert LedgerEntry.objects.count() == 0


@pytest.mark.django_db
def test_every_entry_kind_and_the_balances_after_it(link, sessions, units, alice, scope) -> None:
    package = link(3, "1000.00")
    first, second = sessions(), sessions()

    units.reserve(package, first, alice)
    assert balances(package) == ("active", 3, 1, 0, 3, 2, D("1000.00"), D("1000.00"))
    units.debit(package, first, alice)
    assert balances(package) == ("active", 3, 0, 1, 2, 2, D("1000.00"), D("666.67"))
    units.debit(package, second, alice)  # no reservation: direct
    assert balances(package) == ("active", 3, 0, 2, 1, 1, D("1000.00"), D("333.34"))
    units.credit(package, second, alice)
    assert balances(package) == ("active", 3, 1, 1, 2, 1, D("1000.00"), D("666.67"))
    units.release(second, alice)
    assert balances(package) == ("active", 3, 0, 1, 2, 2, D("1000.00"), D("666.67"))
    ledger.package_change(package=package, actor=alice, sessions_total=4, amount_total=D("1200.00"))
    assert balances(package) == ("active", 4, 0, 1, 3, 3, D("1200.00"), D("866.67"))
    assert [kind for kind, *_ in entries(package)] == [
        "created", "reserve", "debit", "debit", "credit", "release", "manual_change",
    ]  # fmt: skip
    assert_reconciled(package)


@pytest.mark.django_db
def test_last_session_absorbs_the_remainder_and_finishes_the_package(link, sessions, units, alice, scope) -> None:
    package = link(3, "1000.00")
    values = [units.debit(package, sessions(), alice).amount for _ in range(3)]
    assert values == [D("333.33"), D("333.33"), D("333.34")]
    assert balances(package) == ("finished", 3, 0, 3, 0, 0, D("1000.00"), D("0.00"))
    with pytest.raises(PackageInactive):
        units.debit(package, sessions(), alice)
    assert_reconciled(package)


@pytest.mark.django_db
def test_seed_001_history_replayed(link, sessions, units, alice, scope) -> None:
    """The history table of seed 001, step by step: its session balance, money
    balance and average value columns, and its status column."""
    package = link(4, "1000.00")
    tz = dt.timezone(dt.timedelta(hours=-3))
    s0104 = sessions(dt.datetime(2026, 4, 1, 10, 0, tzinfo=tz))
    s0404 = sessions(dt.datetime(2026, 4, 4, 9, 0, tzinfo=tz))
    s0604 = sessions(dt.datetime(2026, 4, 6, 9, 0, tzinfo=tz))

    def debit(a):
        units.debit(package, a, alice)

    def credit(a):
        units.credit(package, a, alice)

    def status(s):
        ledger.package_change(package=package, actor=alice, status=s)

    for step in [
        lambda: debit(s0104), lambda: credit(s0104), lambda: debit(s0404), lambda: credit(s0404),
        lambda: status("inactive"), lambda: status("active"), lambda: debit(s0404), lambda: debit(s0604),
        lambda: credit(s0404), lambda: debit(s0404), lambda: credit(s0404), lambda: credit(s0604),
        lambda: debit(s0604),
    ]:  # fmt: skip
        step()
    assert entries(package) == [
        ("created", "active", 4, D("1000.00"), D("250.00")),
        ("debit", "active", 3, D("750.00"), D("250.00")),
        ("credit", "active", 4, D("1000.00"), D("250.00")),
        ("debit", "active", 3, D("750.00"), D("250.00")),
        ("credit", "active", 4, D("1000.00"), D("250.00")),
        ("manual_change", "inactive", 4, D("1000.00"), D("250.00")),
        ("manual_change", "active", 4, D("1000.00"), D("250.00")),
        ("debit", "active", 3, D("750.00"), D("250.00")),
        ("debit", "active", 2, D("500.00"), D("250.00")),
        ("credit", "active", 3, D("750.00"), D("250.00")),
        ("debit", "active", 2, D("500.00"), D("250.00")),
        ("credit", "active", 3, D("750.00"), D("250.00")),
        ("credit", "active", 4, D("1000.00"), D("250.00")),
        ("debit", "active", 3, D("750.00"), D("250.00")),
    ]
    with scopes_disabled():
        debit_entry = LedgerEntry.objects.filter(package=package, kind="debit").order_by("seq").first()
    assert debit_entry.details["session"] == "2026-04-01T13:00:00+00:00"
    assert_reconciled(package)


@pytest.mark.django_db
def test_idempotent_per_appointment(link, sessions, units, alice, scope) -> None:
    package = link(4, "1000.00")
    session = sessions()
    units.reserve(package, session, alice)
    units.reserve(package, session, alice)
    units.debit(package, session, alice)
    units.debit(package, session, alice)
    assert balances(package)[1:4] == (4, 0, 1)
    units.credit(package, session, alice)
    units.credit(package, session, alice)
    assert balances(package)[1:4] == (4, 1, 0)
    units.debit(package, session, alice)
    units.release(session, alice)  # release after debit credits first
    units.release(session, alice)
    assert balances(package) == ("active", 4, 0, 0, 4, 4, D("1000.00"), D("1000.00"))
    assert [kind for kind, *_ in entries(package)] == [
        "created", "reserve", "debit", "credit", "debit", "credit", "release",
    ]  # fmt: skip
    assert_reconciled(package)


@pytest.mark.django_db
def test_finished_package_reopens_on_credit(link, sessions, units, alice, scope) -> None:
    package = link(1, "90.00")
    session = sessions()
    units.debit(package, session, alice)
    assert balances(package)[0] == "finished"
    units.credit(package, session, alice)
    assert balances(package) == ("active", 1, 1, 0, 1, 0, D("90.00"), D("90.00"))


@pytest.mark.django_db
def test_exhausted_and_inactive_packages_refuse(link, sessions, units, alice, scope) -> None:
    package = link(1, "90.00")
    units.reserve(package, sessions(), alice)
    with pytest.raises(PackageExhausted) as error:
        units.reserve(package, sessions(), alice)
    assert error.value.code == "package_exhausted"
    ledger.package_change(package=package, actor=alice, status="inactive")
    with pytest.raises(PackageInactive) as error:
        units.debit(package, sessions(), alice)
    assert error.value.code == "package_inactive"


@pytest.mark.django_db
def test_an_appointment_holds_one_package_at_a_time(link, sessions, units, alice, scope) -> None:
    first, second = link(2), link(2)
    session = sessions()
    units.reserve(first, session, alice)
    with pytest.raises(AppointmentHasOtherPackage):
        units.debit(second, session, alice)
    # Even code that forgets the rules cannot give it a second live unit.
    with pytest.raises(IntegrityError), transaction.atomic():
        PackageUsage.objects.create(
            organization_id=second.organization_id,
            package=second,
            session=session.id,
            session_start=session.start,
            state="debited",
        )


@pytest.mark.django_db
def test_manual_change_records_its_diff_and_recomputes_the_average(link, alice, scope) -> None:
    package = link(4, "1000.00")
    ledger.package_change(
        package=package, actor=alice, sessions_total=5, paid_at=dt.date(2026, 3, 1), notes="Bônus de uma sessão"
    )
    with scopes_disabled():
        entry = LedgerEntry.objects.filter(package=package).order_by("seq").last()
    assert entry.kind == "manual_change"
    assert entry.details == {
        "changes": [
            {"field": "sessions_total", "from": 4, "to": 5},
            {"field": "paid_at", "from": "", "to": "2026-03-01"},
            {"field": "notes", "from": "", "to": "Bônus de uma sessão"},
        ]
    }
    assert (entry.average_price, entry.sessions_balance, entry.actor) == (D("200.00"), 5, alice)
    package.refresh_from_db()
    assert (package.paid_at, package.notes) == (dt.date(2026, 3, 1), "Bônus de uma sessão")
    # An unchanged value writes nothing.
    ledger.package_change(package=package, actor=alice, sessions_total=5)
    assert len(entries(package)) == 2


@pytest.mark.django_db
def test_lowering_sessions_below_what_is_used_is_refused(link, sessions, units, alice, scope) -> None:
    package = link(4, "1000.00")
    units.debit(package, sessions(), alice)
    units.reserve(package, sessions(), alice)
    with pytest.raises(ValidationFailed) as error:
        ledger.package_change(package=package, actor=alice, sessions_total=1)
    assert error.value.fields == {
        "sessions_total": ["Attended: 1, booked: 1. The package cannot have fewer than 2 sessions."]
    }
    with pytest.raises(ValidationFailed) as error:
        ledger.package_change(package=package, actor=alice, amount_total=D("100.00"))
    assert error.value.fields == {
        "amount_total": ["250.00 was already debited from this package: the total cannot be lower."]
    }
    assert balances(package)[1] == 4
    ledger.package_change(package=package, actor=alice, sessions_total=2)
    assert balances(package) == ("active", 2, 1, 1, 1, 0, D("1000.00"), D("750.00"))


@pytest.mark.django_db
def test_finished_cannot_be_set_by_hand(link, alice, scope) -> None:
    with pytest.raises(ValidationFailed) as error:
        ledger.package_change(package=link(), actor=alice, status="finished")
    assert error.value.fields == {"status": ["A package is finished automatically when nothing remains."]}


@pytest.mark.django_db
def test_ledger_entries_are_append_only(link, scope) -> None:
    package = link()
    with scopes_disabled():
        entry = LedgerEntry.objects.get(package=package)
        with pytest.raises(TypeError, match="append-only"):
            entry.save()
        with pytest.raises(TypeError, match="append-only"):
            entry.delete()
        with pytest.raises(TypeError, match="append-only"):
            LedgerEntry.objects.filter(pk=entry.pk).update(note="x")
        with pytest.raises(TypeError, match="append-only"):
            LedgerEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.django_db
def test_postgres_refuses_to_update_or_delete_a_ledger_entry(link) -> None:
    assert connection.vendor == "postgresql"
    package = link()
    with scopes_disabled():
        entry_id = LedgerEntry.objects.get(package=package).pk
    for sql in [
        "UPDATE patient_packages_ledgerentry SET note = 'x' WHERE id = %s",
        "DELETE FROM patient_packages_ledgerentry WHERE id = %s",
    ]:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry_id])


@pytest.mark.django_db
def test_check_constraints_refuse_negative_balances(link) -> None:
    package = link(2, "100.00")
    with scopes_disabled():
        for change in [{"sessions_used": 3}, {"amount_open": D("-1.00")}, {"sessions_booked": 3}]:
            with pytest.raises(IntegrityError), transaction.atomic():
                PatientPackage.objects.filter(pk=package.pk).update(**change)


@pytest.mark.django_db
def test_monthly_renewal_is_idempotent(patient, alice, scope, catalog_monthly) -> None:
    package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
    this_month = timezone.localdate().replace(day=1)
    assert package.renewed_through == this_month
    next_month = (this_month + dt.timedelta(days=32)).replace(day=1)
    assert ledger.package_renew(package=package, actor=None, period=next_month) is not None
    assert ledger.package_renew(package=package, actor=None, period=next_month) is None
    assert balances(package)[1] == 16
    with scopes_disabled():
        renewal = LedgerEntry.objects.get(package=package, kind="renewal")
        # Even without the check, the database keeps a month from renewing twice.
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                **{
                    f.attname: getattr(renewal, f.attname)
                    for f in LedgerEntry._meta.concrete_fields
                    if f.attname != "id"
                }
                | {"seq": 99}
            )
    assert_reconciled(package)


@pytest.mark.django_db
def test_renewal_refused_for_packages_that_do_not_renew(link, scope) -> None:
    with pytest.raises(ApplicationError) as error:
        ledger.package_renew(package=link(), actor=None)
    assert error.value.code == "package_not_renewable"


@pytest.mark.django_db
def test_reconcile_reports_drift(link, scope) -> None:
    package = link(4, "1000.00")
    with scopes_disabled():
        PatientPackage.objects.filter(pk=package.pk).update(sessions_total=5)  # a bug or a hand edit
    package.refresh_from_db()
    assert ledger.package_reconcile(package).differences == {"sessions_total": (5, 4)}


@pytest.mark.django_db
def test_admin_shows_packages_read_only(alice, link) -> None:
    from tests.conftest import login

    package = link()
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client = login(alice)
    page = client.get(f"/admin/patient_packages/patientpackage/{package.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/patient_packages/patientpackage/{package.pk}/delete/").status_code == 403


@pytest.mark.django_db
def test_a_step_refuses_a_package_locked_by_another_transaction(link, sessions, units, alice, scope) -> None:
    from packages.patient_packages import consumption
    from packages.patient_packages.locks import lock_packages

    package = link(3, "300.00")
    with transaction.atomic():
        stale = lock_packages([package.pk])[package.pk]
    with pytest.raises(RuntimeError, match="must be locked first"), transaction.atomic():
        consumption.reserve(stale, None, session=sessions(), actor=alice)  # its lock ended with that transaction
    with transaction.atomic():
        fresh = lock_packages([package.pk])[package.pk]
        consumption.reserve(fresh, None, session=sessions(), actor=alice)
    assert balances(package)[2] == 1
