"""The demo's patient packages: lived-in, written through the ledger, seeded once."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.demo import DEMO_ORGANIZATION
from clinic.models import Organization
from clinic.tenancy import organization_scope
from packages import ledger
from packages.models import LedgerEntry, PackageUsage, PatientPackage
from scheduling.models import Appointment


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
    assert _counts() == first == (13, 130, 64, 64)

    with scopes_disabled():
        organization = Organization.objects.get(name=DEMO_ORGANIZATION)
    with organization_scope(organization):
        packages = list(PatientPackage.objects.select_related("patient").order_by("pk"))
        kinds = Counter(LedgerEntry.objects.values_list("kind", flat=True))
        renewed = PatientPackage.objects.get(entries__kind="renewal")
        changed = PatientPackage.objects.filter(entries__kind="manual_change", status="active").get()
        appointments = list(Appointment.objects.exclude(patient_package=None))
        drifts = {package.number: ledger.package_reconcile(package).differences for package in packages}

    assert len({package.patient_id for package in packages}) == 12
    assert Counter(package.status for package in packages) == {"active": 10, "finished": 2, "inactive": 1}
    assert kinds == {
        "created": 13,
        "reserve": 64,
        "debit": 46,
        "credit": 2,
        "release": 2,
        "manual_change": 2,
        "renewal": 1,
    }
    assert (renewed.name, renewed.sessions_total, renewed.amount_total) == ("Plano mensal Pilates 2x/semana", 16, 1120)
    assert (changed.sessions_total, changed.sessions_used, changed.sessions_booked) == (12, 8, 2)
    assert drifts == {package.number: {} for package in packages}

    now = timezone.now()
    assert Counter(a.status for a in appointments) == {"attended": 44, "justified_absence": 2, "scheduled": 18}
    assert all(a.end < now for a in appointments if a.status != "scheduled")
    assert all(a.start > now for a in appointments if a.status == "scheduled")
