from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from clinic import services
from clinic.api.base import TenantViewSet
from clinic.models import Clinic, validate_time_zone
from clinic.permissions import Perm

CURRENCY_CODE = RegexValidator(r"^[A-Za-z]{3}$", _("Use a three-letter ISO 4217 currency code, e.g. BRL."))


def between(low: int, high: int, message: Any) -> dict[str, Any]:
    return {"min_value": low, "max_value": high, "error_messages": {"min_value": message, "max_value": message}}


@extend_schema_field({"type": "string", "enum": sorted(zoneinfo.available_timezones()), "example": "America/Sao_Paulo"})
class TimeZoneField(serializers.CharField):
    """An IANA time zone name; the schema lists the ones this server knows."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, validators=[validate_time_zone], **kwargs)


class ClinicSerializer(serializers.ModelSerializer):
    time_zone = TimeZoneField(required=False)
    # The clinic's public address for its patients: their page and online booking.
    portal_url = serializers.SerializerMethodField()

    def get_portal_url(self, clinic: Clinic) -> str:
        return f"{settings.PUBLIC_URL}/c/{clinic.portal_token}/"

    reminder_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=["sms", "whatsapp", "email"]), required=False
    )

    class Meta:
        model = Clinic
        fields = [
            "id", "name", "is_central", "time_zone", "currency", "country", "language", "is_active", "pix_key",
            "pix_city", "legal_name", "tax_id", "address", "phone", "reminder_hours", "reminder_channels",
            "cancellation_hours", "online_booking", "online_notice_hours", "online_days_ahead", "online_slot_minutes",
            "online_buffer_minutes", "online_max_upcoming", "portal_url",
        ]  # fmt: skip
        read_only_fields = ["id", "portal_url"]
        # The bounds `Clinic.clean` checks, in its words, stated in the schema too.
        extra_kwargs = {
            "currency": {"validators": [CURRENCY_CODE]},
            "reminder_hours": {"max_value": 24 * 14, "error_messages": {"max_value": _("At most two weeks before.")}},
            "online_slot_minutes": between(5, 240, _("Between 5 and 240 minutes.")),
            "online_days_ahead": between(1, 366, _("Between 1 and 366 days.")),
        }
        # Uniqueness is the service's (and the database's) job; DRF's own
        # validators would query outside the service's transaction.
        validators: list[Any] = []


class ClinicViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """The clinics of the caller's organization."""

    serializer_class = ClinicSerializer
    write_permission = Perm.MANAGE_ORGANIZATION

    def get_base_queryset(self) -> Any:
        return Clinic.objects.order_by("-is_central", "name")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        clinic = services.clinic_create(organization=request._request.organization, **payload.validated_data)  # type: ignore[attr-defined]
        return Response(self.get_serializer(clinic).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        clinic = self.get_object()
        payload = self.get_serializer(clinic, data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        clinic = services.clinic_update(clinic=clinic, **payload.validated_data)
        return Response(self.get_serializer(clinic).data)
