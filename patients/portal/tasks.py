from __future__ import annotations

from celery import shared_task
from django.utils import translation

from clinic.tenancy import organization_scope
from patients.portal import services
from patients.portal.models import AccessCode


@shared_task
def send_code(code_id: int, organization_id: int, code: str, language: str) -> None:
    """Send a one-time code (queued by `code_request` after its commit)."""
    with organization_scope(organization_id), translation.override(language):
        row = AccessCode.objects.select_related("clinic").filter(pk=code_id).first()
        if row is not None:
            services.code_send(row, code)
