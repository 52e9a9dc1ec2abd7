"""The demo's patient packages: lived-in, written through the ledger, seeded once."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.demo import DEMO_ORGANIZATION
from clinic.models import Organization
from clinic.tenancy import organization_scope
from packages.patient_packages import budgets as package_budgets
from packages.patient_packages import ledger
from packages.patient_packages.models import LedgerEntry, PackageUsage, PatientPackage
from scheduling.models import Appointment, AppointmentLine


def _counts() -> tuple[int, int, int, int]:
    with scopes_disabled():
        return (
            PatientPackage.objects.count(),
            LedgerEntry.objects.count(),
            PackageUsage.objects.count(),
            # The package stories' appointments; the demo calendar adds series of its own.
            Appointment.objects.exclude(patient_package=None).count(),
        )


@pytest.mark.django_db
def test_seed_demo_links_lived_in_packages_once() -> None:
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    call_command("seed_demo", stdout=StringIO())
    # The package stories, and billing's demo: a package sold in installments and
    # a session paid from a package (billing.demo).
    assert _counts() == first == (14, 127, 62, 62)

    with scopes_disabled():
        organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    with organization_scope(organization):
        packages = list(PatientPackage.objects.select_related("patient").order_by("pk"))
        kinds = Counter(LedgerEntry.objects.values_list("kind", flat=True))
        renewed = PatientPackage.objects.get(entries__kind="renewal")
        changed = PatientPackage.objects.filter(entries__kind="manual_change", status="active").get()
        appointments = list(Appointment.objects.exclude(patient_package=None))
        drifts = {package.number: ledger.package_reconcile(package).differences for package in packages}
        lines = Counter(AppointmentLine.objects.values_list("appointment__patient_package__name", "service__code"))
        balances = package_budgets.balances(packages)
        by_name = {package.patient.full_name.split()[0]: balances[package.pk] for package in packages}
        budgets = {name: balance.budget for name, balance in by_name.items()}

    assert len({package.patient_id for package in packages}) == 13
    assert Counter(package.status for package in packages) == {"active": 11, "finished": 2, "inactive": 1}
    assert kinds == {
        "created": 14,
        "reserve": 61,
        "debit": 45,  # 42 attended, 2 absences charged (then credited back), 1 paid from the package
        "credit": 2,
        "release": 2,
        "manual_change": 2,
        "renewal": 1,
    }
    assert (renewed.name, renewed.sessions_total, renewed.amount_total) == ("Plano mensal Pilates 2x/semana", 16, 1120)
    assert (changed.sessions_total, changed.sessions_used, changed.sessions_booked) == (12, 8, 2)
    assert drifts == {package.number: {} for package in packages}

    now = timezone.now()
    assert Counter(a.status for a in appointments) == {"attended": 43, "justified_absence": 2, "scheduled": 17}
    assert all(a.end < now for a in appointments if a.status != "scheduled")
    assert all(a.start > now for a in appointments if a.status == "scheduled")

    # Booked as reception books: with service lines (the assessment first),
    # within every budget; some packages are near theirs.
    assert lines[("Avaliação + 6 sessões", "FIS-AVA")] == 1
    assert lines[("Avaliação + 6 sessões", "FIS-SES")] == 5
    assert all(check.ok for check in budgets.values())
    # João's 2 courtesy sessions grew his physio limit with them: 10 of 12
    # taken (8 attended, 2 booked), so the 2 left are free to book.
    assert (budgets["João"].level, budgets["João"].tightest_percent) == ("ok", Decimal("83.3"))
    assert (by_name["João"].remaining, by_name["João"].booked, by_name["João"].free) == (4, 2, 2)
    # The one assessment is used (red), and 780.00 of the 900.00.
    assert {(limit.kind, limit.total, limit.limit) for limit in budgets["Carlos"].limits} == {
        ("service_quantity", 1, 1),
        ("amount", Decimal("780.00"), Decimal("900.00")),
    }
    assert budgets["Adriana"].level == "ok"
