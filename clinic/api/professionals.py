"""`/api/v1/professionals/`: the people with a calendar, with their weekly
working hours.

The list shows the caller's current clinic (the `X-Clinic` header, else the
central clinic); `?clinic=<id>` names another clinic of the organization and
`?is_active=true|false` filters by status. Detail URLs reach any professional
of the organization. Writes need `configure_clinic` both in the current clinic
and in the clinic the professional belongs to. There is no DELETE: deactivate
with ``PATCH {"is_active": false}``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from clinic import resources
from clinic.api.base import TenantViewSet
from clinic.api.fields import TenantPrimaryKeyField
from clinic.api.filters import IdFilter
from clinic.errors import PermissionDenied, ValidationFailed
from clinic.models import Clinic, Professional, User, Weekday
from clinic.permissions import Perm, membership_has_perm
from clinic.selectors import clinic_membership

HH_MM = "%H:%M"


CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


@extend_schema_field({"type": "string", "pattern": CLOCK_TIME, "example": "08:00"})
class ClockTimeField(serializers.TimeField):
    """A time of day on the clinic's clock, `HH:MM` (seconds accepted on input)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=HH_MM, input_formats=[HH_MM, "%H:%M:%S"], **kwargs)


def _organization(request: Any) -> Any:
    return getattr(request, "organization", None) if request is not None else None


class OrganizationUserField(serializers.PrimaryKeyRelatedField):
    """A user of the caller's organization (users are not scoped: filter explicitly)."""

    def get_queryset(self) -> models.QuerySet[User]:
        return User.objects.filter(organization=_organization(self.context.get("request")))


def organization_clinics(request: Any) -> models.QuerySet[Clinic]:
    """django-filter's choices for `?clinic=`."""
    return Clinic.objects.filter(organization=_organization(request))


def require_manage_in(request: Request, clinic: Clinic) -> None:
    """The caller may configure `clinic` itself, not only in the
    clinic they are working in."""
    membership = clinic_membership(getattr(request, "memberships", []), clinic)
    if not membership_has_perm(membership, Perm.CONFIGURE_CLINIC):
        raise PermissionDenied(_("Your role does not allow this action."))


class WorkingHoursSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=Weekday.choices, help_text="0 is Monday, 6 is Sunday.")
    start = ClockTimeField(source="starts_at")
    end = ClockTimeField(source="ends_at")


class ProfessionalSerializer(serializers.ModelSerializer):
    clinic = TenantPrimaryKeyField(Clinic, required=False, help_text="Default: the caller's current clinic.")
    user = OrganizationUserField(required=False, allow_null=True)
    working_hours = WorkingHoursSerializer(
        many=True, required=False, help_text="The whole week; sending it replaces the previous one."
    )

    class Meta:
        model = Professional
        fields = ["id", "name", "specialty", "color", "clinic", "user", "is_active", "working_hours"]
        read_only_fields = ["id"]
        # Rules (linked user, overlapping hours, colour) are the service's job.
        validators: list[Any] = []


class ProfessionalFilter(django_filters.FilterSet):
    clinic = IdFilter(field_name="clinic_id")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Professional
        fields = ["clinic", "is_active"]


def _intervals(rows: list[dict[str, Any]]) -> list[resources.WorkingInterval]:
    return [
        resources.WorkingInterval(weekday=int(row["weekday"]), starts_at=row["starts_at"], ends_at=row["ends_at"])
        for row in rows
    ]


class ProfessionalViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """Professionals of the caller's organization (list: of the current clinic unless `?clinic=`)."""

    serializer_class = ProfessionalSerializer
    filterset_class = ProfessionalFilter
    write_permission = Perm.CONFIGURE_CLINIC

    def get_base_queryset(self) -> models.QuerySet[Professional]:
        queryset = (
            Professional.objects.select_related("clinic").prefetch_related("working_hours").order_by("name", "pk")
        )
        request = getattr(self, "request", None)
        if getattr(self, "action", None) == "list" and request is not None and "clinic" not in request.query_params:
            return queryset.filter(clinic=getattr(request, "clinic", None))
        return queryset

    def _fresh(self, professional: Professional) -> dict[str, Any]:
        # Re-read with the new working hours (the instance's prefetch is stale).
        fresh = Professional.objects.prefetch_related("working_hours").get(pk=professional.pk)
        return self.get_serializer(fresh).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        clinic = values.pop("clinic", None) or getattr(request, "clinic", None)
        if clinic is None:
            raise ValidationFailed(fields={"clinic": [_("This field is required.")]})
        require_manage_in(request, clinic)
        if "working_hours" in values:
            values["working_hours"] = _intervals(values["working_hours"])
        professional = resources.professional_create(clinic=clinic, **values)
        return Response(self._fresh(professional), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        professional = self.get_object()
        require_manage_in(request, professional.clinic)
        payload = self.get_serializer(professional, data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        if "clinic" in changes:
            require_manage_in(request, changes["clinic"])
        if "working_hours" in changes:
            changes["working_hours"] = _intervals(changes["working_hours"])
        professional = resources.professional_update(professional=professional, **changes)
        return Response(self._fresh(professional))
