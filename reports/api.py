"""`GET /api/v1/reports/packages.xlsx` (the general package report's filters)
and `GET /api/v1/patient-packages/{id}/session-card.pdf` (`?size=A5`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from clinic.api.base import HasActionPermission
from clinic.errors import NotFound, ValidationFailed
from clinic.permissions import Perm
from packages.patient_packages.models import PatientPackage
from patients.models import AccessChannel
from reports import selectors, views

FILTERS = [
    OpenApiParameter(name, OpenApiTypes.STR if name in ("status", "sort") else (
        OpenApiTypes.DATE if name in ("start", "end") else OpenApiTypes.INT), required=False)
    for name in ("status", "start", "end", "clinic", "professional", "patient", "template", "sort")
]  # fmt: skip


class PackageReportExport(APIView):
    permission_classes = [permissions.IsAuthenticated, HasActionPermission]

    def required_permission(self) -> Perm:
        return Perm.EXPORT_REPORTS

    @extend_schema(parameters=FILTERS, responses={(200, views.XLSX_CONTENT_TYPE): OpenApiResponse(description="xlsx")})
    def get(self, request: Request) -> HttpResponse:
        clinic = request.clinic  # type: ignore[attr-defined]
        form = views.report_form(request._request, clinic)
        if not form.is_valid():
            raise ValidationFailed(fields={name: list(errors) for name, errors in form.errors.items()})
        rows = selectors.package_report_rows(form.filters(time_zone=clinic.time_zone))
        return views.package_report_download(request._request, form, rows, clinic)


class SessionCard(APIView):
    permission_classes = [permissions.IsAuthenticated, HasActionPermission]

    def required_permission(self) -> None:
        return None

    @extend_schema(
        parameters=[OpenApiParameter("size", OpenApiTypes.STR, enum=["A4", "A5"], required=False)],
        responses={(200, "application/pdf"): OpenApiResponse(description="The package's session card (PDF).")},
    )
    def get(self, request: Request, pk: int, **kwargs: Any) -> HttpResponse:
        organization = getattr(request._request, "organization", None)
        package = (
            PatientPackage.objects.filter(pk=pk, organization=organization, deleted_at__isnull=True)
            .select_related("patient", "clinic")
            .first()
        )
        if package is None:
            raise NotFound()
        return views.session_card_response(request._request, package, channel=AccessChannel.API)
