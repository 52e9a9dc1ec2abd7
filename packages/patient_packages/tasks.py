"""Background jobs of patient packages."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.errors import ApplicationError
from clinic.models import Organization
from clinic.tenancy import organization_scope
from packages.catalog.models import Renewal
from packages.patient_packages import ledger
from packages.patient_packages.models import PackageStatus, PatientPackage

logger = logging.getLogger(__name__)


@shared_task
def renew_monthly_packages(today: str | None = None) -> int:
    """Renew every monthly package not yet renewed for this month (K6).

    Runs daily from Celery beat; running it twice in a month renews once (the
    ledger's unique rule per package and month backs the check up). Goes
    through organizations one scope at a time.
    """
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    period = day.replace(day=1)
    with scopes_disabled():  # listing the tenants is the one cross-tenant read here
        organization_ids = list(Organization.objects.values_list("pk", flat=True))
    renewed = 0
    for organization_id in organization_ids:
        renewed += renew_organization_packages(organization_id, period)
    return renewed


def renew_organization_packages(organization_id: int, period: dt.date) -> int:
    renewed = 0
    with organization_scope(organization_id):
        due = PatientPackage.objects.filter(
            renewal=Renewal.MONTHLY,
            deleted_at__isnull=True,
            status__in=[PackageStatus.ACTIVE, PackageStatus.FINISHED],
            renewed_through__lt=period,
        ).order_by("pk")
        for package in due:
            try:
                if ledger.package_renew(package=package, actor=None, period=period) is not None:
                    renewed += 1
            except ApplicationError as error:
                # Deactivated or deleted since it was listed: it stays as staff left
                # it, and the other packages are still renewed.
                logger.info("package %s not renewed for %s: %s", package.pk, period, error.code)
    return renewed
