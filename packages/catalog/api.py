"""`/api/v1/services/` and `/api/v1/package-templates/` (SPEC section 10).

Reads list what the caller's clinic sees (its own items and the shared ones);
writes need `manage_catalog` and go through `packages.catalog.services`. Another
clinic's shared item answers 403 `shared_read_only` to a write; an item the
clinic does not see, or another organization's, answers 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.api.base import TenantViewSet
from clinic.api.fields import BooleanField, CharField, IntegerField, money_field
from clinic.models import Clinic
from clinic.permissions import Perm
from packages.catalog import selectors, services
from packages.catalog.filters import PackageTemplateFilter, ServiceFilter
from packages.catalog.models import (
    MAX_DURATION_MINUTES,
    MAX_SESSIONS,
    CommissionKind,
    PackageTemplate,
    Posting,
    Renewal,
    Service,
)


def _clinic(context: Mapping[str, Any]) -> Clinic | None:
    request = context.get("request")
    return getattr(request, "clinic", None)


@extend_schema_field(OpenApiTypes.INT)
class VisibleServiceField(serializers.PrimaryKeyRelatedField):
    """A service the caller's clinic sees; any other id (missing, a sibling's
    private one, another organization's) is the same "does not exist" error."""

    def get_queryset(self) -> QuerySet[Service]:
        return selectors.visible_services(clinic=_clinic(self.context))


# Services ------------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    price = money_field(read_only=True)
    is_own = serializers.SerializerMethodField(help_text="Whether the caller's clinic owns (and may edit) it.")

    class Meta:
        model = Service
        fields = ["id", "name", "code", "price", "duration_minutes", "is_active", "is_shared", "clinic", "is_own"]
        read_only_fields = fields

    def get_is_own(self, service: Service) -> bool:
        clinic = _clinic(self.context)
        return clinic is not None and service.clinic_id == clinic.pk


class ServiceInputSerializer(serializers.Serializer):
    name = CharField(max_length=200)
    code = CharField(max_length=30, required=False, allow_blank=True, default="")
    price = money_field(min_value=Decimal("0"))
    duration_minutes = IntegerField(min_value=1, max_value=MAX_DURATION_MINUTES, default=50)
    is_shared = BooleanField(default=False)
    is_active = BooleanField(required=False)


class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet):
    """The services the caller's clinic sees: its own and the shared ones."""

    serializer_class = ServiceSerializer
    filterset_class = ServiceFilter
    write_permission = Perm.MANAGE_CATALOG

    def get_base_queryset(self) -> QuerySet[Service]:
        return selectors.service_list(clinic=getattr(self.request, "clinic", None))

    @extend_schema(request=ServiceInputSerializer, responses={201: ServiceSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = ServiceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = {key: value for key, value in payload.validated_data.items() if key != "is_active"}
        service = services.service_create(clinic=request._request.clinic, **data)  # type: ignore[attr-defined]
        if payload.validated_data.get("is_active") is False:
            service = services.service_set_active(service=service, clinic=service.clinic, is_active=False)
        return Response(self.get_serializer(service).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ServiceInputSerializer, responses=ServiceSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        service = self.get_object()
        payload = ServiceInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        current = {
            "name": service.name,
            "code": service.code,
            "price": service.price,
            "duration_minutes": service.duration_minutes,
            "is_shared": service.is_shared,
        }
        service = services.service_update(
            service=service,
            clinic=request._request.clinic,  # type: ignore[attr-defined]
            **{**current, **payload.validated_data},
        )
        return Response(self.get_serializer(service).data)

    @extend_schema(request=ServiceInputSerializer, responses=ServiceSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance: Service) -> None:
        services.service_delete(service=instance, clinic=self.request._request.clinic)  # type: ignore[attr-defined]


# Package templates -----------------------------------------------------------


class TemplateItemSerializer(serializers.Serializer):
    service = VisibleServiceField()
    quantity = IntegerField(min_value=1, max_value=MAX_SESSIONS)
    clinic = IntegerField(source="clinic_id", read_only=True, help_text="The clinic that added the item.")
    is_own = serializers.SerializerMethodField(
        help_text="Added by the caller's clinic (its own item, or the owning clinic's items)."
    )

    def get_is_own(self, item: Any) -> bool:
        clinic = _clinic(self.context)
        return clinic is not None and item.clinic_id == clinic.pk


class ServiceLimitSerializer(serializers.Serializer):
    service = VisibleServiceField()
    max_quantity = IntegerField(min_value=1, allow_null=True, required=False, default=None)
    max_amount = money_field(min_value=Decimal("0.01"), allow_null=True, required=False, default=None)


class LimitsSerializer(serializers.Serializer):
    max_appointments = IntegerField(min_value=1, allow_null=True, required=False, default=None)
    max_amount = money_field(min_value=Decimal("0.01"), allow_null=True, required=False, default=None)
    services = ServiceLimitSerializer(many=True, required=False, default=list)


class PackageTemplateSerializer(serializers.Serializer):
    id = IntegerField(read_only=True)
    name = CharField(read_only=True)
    clinic = IntegerField(source="clinic_id", read_only=True)
    is_own = serializers.SerializerMethodField()
    items = TemplateItemSerializer(source="visible_items", many=True, read_only=True)
    sessions = IntegerField(read_only=True)
    sessions_from_items = BooleanField(read_only=True)
    price = money_field(read_only=True)
    price_per_session = money_field(read_only=True, allow_null=True)
    last_session_price = money_field(read_only=True, allow_null=True)
    renewal = CharField(read_only=True)
    posting = CharField(read_only=True)
    validity_days = IntegerField(read_only=True, allow_null=True)
    commission_kind = CharField(read_only=True)
    commission_value = money_field(read_only=True)
    trigger_service = IntegerField(source="trigger_service_id", read_only=True, allow_null=True)
    limits = serializers.SerializerMethodField()
    is_active = BooleanField(read_only=True)
    is_shared = BooleanField(read_only=True)

    def get_is_own(self, template: PackageTemplate) -> bool:
        clinic = _clinic(self.context)
        return clinic is not None and template.clinic_id == clinic.pk

    @extend_schema_field(LimitsSerializer)
    def get_limits(self, template: PackageTemplate) -> dict[str, Any]:
        budget = selectors.budget_for_template(template).as_dict()
        for limit in budget["services"]:
            del limit["service_name"]
        return budget


class PackageTemplateInputSerializer(serializers.Serializer):
    name = CharField(max_length=200)
    items = TemplateItemSerializer(many=True, allow_empty=False)
    sessions = IntegerField(
        min_value=1, max_value=MAX_SESSIONS, allow_null=True, default=None, help_text="Null: the sum of the items."
    )
    price = money_field(min_value=Decimal("0"))
    renewal = serializers.ChoiceField(choices=Renewal.choices, default=Renewal.NONE)
    posting = serializers.ChoiceField(choices=Posting.choices, default=Posting.PER_PROCEDURE)
    validity_days = IntegerField(min_value=1, max_value=3650, allow_null=True, default=None)
    commission_kind = serializers.ChoiceField(choices=CommissionKind.choices, default=CommissionKind.NONE)
    commission_value = money_field(min_value=Decimal("0"), default="0.00")
    trigger_service = VisibleServiceField(allow_null=True, default=None)
    limits = LimitsSerializer(required=False)
    is_shared = BooleanField(default=False)
    is_active = BooleanField(required=False)


class OwnItemsInputSerializer(serializers.Serializer):
    items = TemplateItemSerializer(many=True)


def _template_input(validated: dict[str, Any], base: services.TemplateInput | None) -> services.TemplateInput:
    """The service's input from a (possibly partial) validated payload."""
    changes: dict[str, Any] = {}
    names = {"sessions": "fixed_sessions"}
    for key, value in validated.items():
        if key == "is_active":
            continue
        if key == "items":
            value = tuple(services.TemplateItemInput(service=row["service"], quantity=row["quantity"]) for row in value)
        elif key == "limits":
            value = services.LimitsInput(
                max_appointments=value.get("max_appointments"),
                max_amount=value.get("max_amount"),
                services=tuple(
                    services.ServiceLimitInput(
                        service=row["service"], max_quantity=row.get("max_quantity"), max_amount=row.get("max_amount")
                    )
                    for row in value.get("services", [])
                ),
            )
        changes[names.get(key, key)] = value
    if base is None:
        return services.TemplateInput(**changes)
    return replace(base, **changes)


class PackageTemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet):
    """Package templates the caller's clinic sees, with the items it sees: the
    template's own and the ones the clinic added itself."""

    serializer_class = PackageTemplateSerializer
    filterset_class = PackageTemplateFilter
    write_permission = Perm.MANAGE_CATALOG
    action_permissions = {"own_items": Perm.MANAGE_CATALOG}

    def get_base_queryset(self) -> QuerySet[PackageTemplate]:
        return selectors.template_list(clinic=getattr(self.request, "clinic", None))

    def _clinic(self) -> Clinic:
        return self.request._request.clinic  # type: ignore[attr-defined]

    def _respond(self, template: PackageTemplate, http_status: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.template_for_clinic(clinic=self._clinic(), template_id=template.pk)
        return Response(self.get_serializer(fresh).data, status=http_status)

    @extend_schema(request=PackageTemplateInputSerializer, responses={201: PackageTemplateSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = PackageTemplateInputSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        template = services.package_template_create(
            clinic=self._clinic(), data=_template_input(payload.validated_data, None)
        )
        if payload.validated_data.get("is_active") is False:
            services.package_template_set_active(template=template, clinic=self._clinic(), is_active=False)
        return self._respond(template, status.HTTP_201_CREATED)

    @extend_schema(request=PackageTemplateInputSerializer, responses=PackageTemplateSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        template = self.get_object()
        partial = kwargs.get("partial", False)
        payload = PackageTemplateInputSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        payload.is_valid(raise_exception=True)
        base = services.template_input_from(template) if partial else None
        template = services.package_template_update(
            template=template,
            clinic=self._clinic(),
            data=_template_input(payload.validated_data, base),
            is_active=payload.validated_data.get("is_active"),
        )
        return self._respond(template)

    @extend_schema(request=PackageTemplateInputSerializer, responses=PackageTemplateSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance: PackageTemplate) -> None:
        services.package_template_delete(template=instance, clinic=self._clinic())

    @extend_schema(request=OwnItemsInputSerializer, responses=PackageTemplateSerializer)
    @action(detail=True, methods=["put"], url_path="own-items")
    def own_items(self, request: Request, pk: str | None = None) -> Response:
        """Replace the items the caller's clinic adds to this template: in another
        clinic's shared template, its own services, visible only to it."""
        template = self.get_object()
        payload = OwnItemsInputSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        items = tuple(
            services.TemplateItemInput(service=row["service"], quantity=row["quantity"])
            for row in payload.validated_data["items"]
        )
        template = services.package_template_set_own_items(template=template, clinic=self._clinic(), items=items)
        return self._respond(template)
