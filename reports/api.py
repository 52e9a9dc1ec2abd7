"""`GET /api/v1/reports/packages.xlsx` (the general package report's filters),
`GET /api/v1/patient-packages/{id}/session-card.pdf` (`?size=A5`) and the
exports written in the background (`/api/v1/exports/`).

An export over `EXPORT_ASYNC_ROWS` rows answers 202 with the export's state
and a `Location` to poll; once `status` is `ready`, its `download_url` (signed,
valid for `EXPORT_TTL_HOURS`) gives the file to any user of the organization
who may export.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.base import HasActionPermission, TenantViewSet
from clinic.api.fields import ID_SCHEMA, IntegerField
from clinic.api.filters import query_errors
from clinic.errors import NotFound, ValidationFailed
from clinic.permissions import Perm
from packages.patient_packages.models import PackageStatus, PatientPackage
from patients.models import AccessChannel
from reports import exports, selectors, views
from reports.forms import package_report_form
from reports.models import Export, ExportStatus
from reports.selectors import SORTS

FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=[choice for choice, _label in PackageStatus.choices]),
    OpenApiParameter("start", OpenApiTypes.DATE),
    OpenApiParameter("end", OpenApiTypes.DATE),
    *(OpenApiParameter(name, ID_SCHEMA) for name in ("clinic", "professional", "patient", "template")),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=[f"{sign}{key}" for key in SORTS for sign in ("", "-")]),
]


class ExportSerializer(serializers.ModelSerializer):
    percent = IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id", "kind", "status", "rows_total", "rows_done", "percent", "filename", "created_at", "finished_at",
            "expires_at", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, export: Export) -> str | None:
        if export.status != ExportStatus.READY:
            return None
        path = reverse("export-download", args=[export.pk])
        url: str = self.context["request"].build_absolute_uri(f"{path}?token={exports.download_token(export)}")
        return url


def accepted(request: Request) -> views.Queued:
    def answer(export: Export) -> HttpResponse:
        response = Response(ExportSerializer(export, context={"request": request}).data, status=202)
        response["Location"] = reverse("export-detail", args=[export.pk])
        return response

    return answer


class PackageReportExport(APIView):
    permission_classes = [permissions.IsAuthenticated, HasActionPermission]

    def required_permission(self) -> Perm:
        return Perm.EXPORT_REPORTS

    @extend_schema(
        parameters=FILTERS,
        responses={
            (200, views.XLSX_CONTENT_TYPE): OpenApiResponse(description="xlsx"),
            202: OpenApiResponse(ExportSerializer, description="Too many rows: written in the background."),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        clinic = request.clinic  # type: ignore[attr-defined]
        form = package_report_form(request.GET, clinic)
        errors = query_errors(request.GET, {parameter.name: "typed" for parameter in FILTERS})
        if errors or not form.is_valid():
            raise ValidationFailed(
                fields={**{name: list(messages) for name, messages in form.errors.items()}, **errors}
            )
        rows = selectors.package_report_rows(form.filters(time_zone=clinic.time_zone))
        return views.package_report_download(request._request, rows, clinic, queued=accepted(request))


class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Exports written in the background: the caller's own in the list, any of
    the organization's by id."""

    serializer_class = ExportSerializer
    action_permissions = {"list": Perm.EXPORT_REPORTS, "retrieve": Perm.EXPORT_REPORTS,
                          "download": Perm.EXPORT_REPORTS}  # fmt: skip

    def get_base_queryset(self) -> QuerySet[Export]:
        queryset = Export.objects.order_by("-created_at", "-pk")
        if self.action == "list":
            queryset = queryset.filter(requested_by=self.request.user.pk)
        return queryset

    @extend_schema(
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, required=True)],
        responses={(200, views.XLSX_CONTENT_TYPE): OpenApiResponse(description="xlsx"),
                   410: OpenApiResponse(description="The link or the export has expired.")},
    )  # fmt: skip
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> Any:
        export = self.get_object()
        try:
            ready = exports.export_for_download(export.pk, request.query_params.get("token", ""))
        except Export.DoesNotExist:
            raise NotFound() from None
        return views.export_file_response(ready)


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
