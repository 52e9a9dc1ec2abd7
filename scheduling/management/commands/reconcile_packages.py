"""Recompute every patient package's balances from its ledger, and check each
of its session units against its appointment; report any drift.

Exit status 1 when any package drifts, so it can run from cron or CI. (A
scheduling command: the units are checked against appointments, which the
package ledger never reads.)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.models import Organization
from clinic.tenancy import organization_scope
from packages.patient_packages.ledger import package_reconcile
from packages.patient_packages.models import PatientPackage
from scheduling.package_sessions import sessions_reconcile


class Command(BaseCommand):
    help = (
        "Check that each patient package's cached balances equal what its ledger adds up to, "
        "and that each of its session units agrees with its appointment's status."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", required=True, help="Organization id or slug")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["organization"]
        organization = Organization.objects.filter(**{"pk" if key.isdigit() else "slug": key}).first()
        if organization is None:
            raise CommandError(f"No organization {key!r}.")
        checked = drifted = 0
        with organization_scope(organization):
            for package in PatientPackage.objects.order_by("pk").iterator(chunk_size=500):
                checked += 1
                balances = package_reconcile(package).differences
                sessions = sessions_reconcile(package).differences
                if balances or sessions:
                    drifted += 1
                    details = "; ".join(
                        [f"{name}: cached {cached}, ledger {expected}" for name, (cached, expected) in balances.items()]
                        + [f"{name}: unit {unit}, status asks {wanted}" for name, (unit, wanted) in sessions.items()]
                    )
                    self.stdout.write(self.style.ERROR(f"{package.number} (id {package.pk}): {details}"))
        summary = f"{organization.name}: {checked} packages checked, {drifted} with drift."
        if drifted:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
