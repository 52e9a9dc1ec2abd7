"""Background jobs of reports: writing a large export, and deleting the
files of expired ones."""

from __future__ import annotations

from celery import shared_task

from clinic.tenancy import organization_scope
from reports import exports


@shared_task(acks_late=True)
def export_run(export_id: int, organization_id: int) -> bool:
    """Write one export; a repeated delivery of the task writes nothing."""
    with organization_scope(organization_id):
        return exports.export_run(export_id)


@shared_task
def exports_purge() -> int:
    return exports.exports_purge()
