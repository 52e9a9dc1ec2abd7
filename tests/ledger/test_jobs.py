from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import LedgerEntry, PatientPackage
from packages.patient_packages.tasks import renew_monthly_packages
from scheduling.models import Appointment
from tests.ledger.conftest import book_session


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@pytest.mark.django_db
def test_renewal_job_renews_once_a_month(patient, alice, catalog_monthly, link, settings) -> None:
    with organization_scope(patient.organization_id):
        monthly = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
        stopped = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
        ledger.package_change(package=stopped, actor=alice, status="inactive")
    plain = link(4)
    next_month = _next_month(timezone.localdate())

    assert renew_monthly_packages(next_month.isoformat()) == 1
    assert renew_monthly_packages(next_month.isoformat()) == 0  # the same month again: nothing
    # Queued through Celery (eager without a worker in tests) it behaves the same.
    assert renew_monthly_packages.delay(next_month.isoformat()).get() == 0

    with scopes_disabled():
        assert [e.kind for e in LedgerEntry.objects.filter(package=monthly).order_by("seq")] == ["created", "renewal"]
        assert LedgerEntry.objects.filter(package__in=[stopped, plain], kind="renewal").count() == 0
        monthly = PatientPackage.objects.get(pk=monthly.pk)
    assert (monthly.sessions_total, monthly.amount_total, monthly.renewed_through) == (16, 960, next_month)


@pytest.mark.django_db
def test_renew_now_takes_the_next_month(patient, alice, catalog_monthly) -> None:
    with organization_scope(patient.organization_id):
        package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=catalog_monthly)
        entry = ledger.package_renew(package=package, actor=alice)
    assert entry.period == _next_month(timezone.localdate())
    assert entry.note == ""
    assert entry.actor == alice


@pytest.mark.django_db
def test_reconcile_command_reports_clean_and_drifting_packages(tenant_a, link) -> None:
    package = link(4)
    out = StringIO()
    call_command("reconcile_packages", "--organization", tenant_a.organization.slug, stdout=out)
    assert "1 packages checked, 0 with drift." in out.getvalue()
    with scopes_disabled():
        PatientPackage.objects.filter(pk=package.pk).update(amount_open=500)
    out = StringIO()
    with pytest.raises(CommandError, match=r"1 packages checked, 1 with drift\."):
        call_command("reconcile_packages", "--organization", str(tenant_a.organization.pk), stdout=out)
    assert f"{package.number} (id {package.pk}): amount_open: cached 500.00, ledger 1000.00" in out.getvalue()


@pytest.mark.django_db
def test_reconcile_command_checks_each_unit_against_its_appointment(tenant_a, link) -> None:
    package = link(4)
    appointment = book_session(package)
    out = StringIO()
    call_command("reconcile_packages", "--organization", tenant_a.organization.slug, stdout=out)
    assert "1 packages checked, 0 with drift." in out.getvalue()
    with scopes_disabled():
        # What the old second write path did: the appointment says attended,
        # its unit is still only reserved.
        Appointment.objects.filter(pk=appointment.pk).update(status="attended")
    out = StringIO()
    with pytest.raises(CommandError, match=r"1 packages checked, 1 with drift\."):
        call_command("reconcile_packages", "--organization", tenant_a.organization.slug, stdout=out)
    assert f"appointment {appointment.pk}: unit reserved, status asks debited" in out.getvalue()
