"""`/api/v1/patient-packages/`: packages sold to patients, their balances and
budgets, their history, manual changes and renewal.

The actions that touch appointments' sessions (`debit`, `credit`, and
`DELETE`, which releases the package's bookings) belong to scheduling, the
owner of the link between appointments and packages: `scheduling.package_api`
extends this viewset with them, and that is the one the router serves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinic import money
from clinic.api.base import TenantViewSet
from clinic.api.fields import CharField, DecimalField, IntegerField, TenantPrimaryKeyField, money_field
from clinic.api.filters import IdFilter
from clinic.errors import NotFound, ValidationFailed
from clinic.history import person_name
from clinic.models import Room
from clinic.permissions import Perm
from packages.catalog import selectors as catalog
from packages.catalog.budget import Level, LimitKind
from packages.catalog.models import MAX_SESSIONS, PackageTemplate
from packages.patient_packages import budgets, ledger, selectors
from packages.patient_packages.history import history_rows
from packages.patient_packages.models import MAX_INSTALLMENTS, PackageStatus, PatientPackage
from patients.models import AccessChannel, Patient
from patients.services import access_log_record


@extend_schema_field(OpenApiTypes.INT)
class VisibleTemplateField(serializers.PrimaryKeyRelatedField):
    """A template the caller's clinic sees; any other id reads as missing."""

    def get_queryset(self) -> QuerySet[PackageTemplate]:
        return catalog.visible_templates(clinic=self.context["request"].clinic)


class BudgetLimitSerializer(serializers.Serializer):
    """One limit (a `packages.catalog.budget.LimitCheck`)."""

    kind = serializers.ChoiceField(choices=[kind.value for kind in LimitKind])
    service = IntegerField(source="service_id", allow_null=True)
    limit = CharField(help_text="A count, or an amount as a decimal string.")
    used = CharField(help_text="Taken by attended or paid sessions.")
    booked = CharField(help_text="Held by sessions still to come.")
    remaining = CharField(help_text="Left for new bookings: limit - used - booked.")
    percent_used = DecimalField(max_digits=7, decimal_places=1)
    percent_booked = DecimalField(max_digits=7, decimal_places=1)
    level = serializers.ChoiceField(
        choices=[level.value for level in Level], help_text="The bar's colour, by how much is used."
    )


class BudgetSerializer(serializers.Serializer):
    """How much of a package's budget limits its sessions take (S3)."""

    per = serializers.ChoiceField(choices=["package", "month"], help_text="A monthly plan's limits are per month.")
    tightest_percent = DecimalField(
        max_digits=7, decimal_places=1, help_text="How full the tightest limit is, used and booked together."
    )
    level = serializers.ChoiceField(choices=[level.value for level in Level])
    limiting = serializers.DictField(
        allow_null=True,
        help_text="The limit that holds `sessions_available` below the sessions left ({kind, service}), or null.",
    )
    limits = BudgetLimitSerializer(many=True)


class PatientPackageListSerializer(serializers.ListSerializer):
    """Reads the balances of a whole page of packages at once."""

    def to_representation(self, data: Any) -> list[Any]:
        packages = list(data.all() if isinstance(data, QuerySet) else data)
        context = cast(dict[str, Any], self.context)  # the children read the same dict
        context["balances"] = budgets.balances(packages)
        return super().to_representation(packages)


class PatientPackageSerializer(serializers.ModelSerializer):
    sessions_remaining = IntegerField(read_only=True, help_text="Sessions not used yet: total - used.")
    sessions_available = serializers.SerializerMethodField(
        help_text="Free to book: total - used - booked, and no more than the budget limits let be booked."
    )
    price_per_session = serializers.SerializerMethodField()
    average_price = money_field(read_only=True)
    budget = serializers.SerializerMethodField()

    class Meta:
        model = PatientPackage
        list_serializer_class = PatientPackageListSerializer
        fields = [
            "id",
            "number",
            "patient",
            "clinic",
            "template",
            "name",
            "status",
            "sessions_total",
            "sessions_booked",
            "sessions_used",
            "sessions_remaining",
            "sessions_available",
            "amount_total",
            "amount_open",
            "price_per_session",
            "average_price",
            "paid_at",
            "installments",
            "insurer",
            "authorization",
            "room",
            "mobile",
            "reminder_hours",
            "notes",
            "renewal",
            "renewed_through",
            "posting",
            "validity_days",
            "commission_kind",
            "commission_value",
            "terms",
            "budget",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "sessions_used": {"help_text": "Sessions attended or paid (debited)."},
            "sessions_booked": {"help_text": "Sessions held by appointments still to come."},
        }

    def _balance(self, package: PatientPackage) -> budgets.Balance:
        balances = self.context.get("balances") or budgets.balances([package])
        return balances[package.pk]

    @extend_schema_field(OpenApiTypes.INT)
    def get_sessions_available(self, package: PatientPackage) -> int:
        return self._balance(package).free

    @extend_schema_field(BudgetSerializer(allow_null=True))
    def get_budget(self, package: PatientPackage) -> dict[str, Any] | None:
        """What the live sessions take of the limits (this month's, for a
        monthly plan); null without limits."""
        balance = self._balance(package)
        check = balance.budget
        if check.tightest is None:
            return None
        limiting = balance.limiting
        return {
            "per": balance.per,
            "tightest_percent": str(check.tightest_percent),
            "level": str(check.level),
            "limiting": {"kind": str(limiting.kind), "service": limiting.service_id} if limiting else None,
            "limits": BudgetLimitSerializer(check.limits, many=True).data,
        }

    @extend_schema_field(money_field())
    def get_price_per_session(self, package: PatientPackage) -> str:
        return str(money.price_per_session(package.amount_total, package.sessions_total))


# The services' own words for the bounds the schema now states.
SESSIONS_ERRORS: dict[str, Any] = {"min_value": gettext_lazy("The number of sessions must be at least 1.")}
AMOUNT_ERRORS: dict[str, Any] = {"min_value": gettext_lazy("The amount cannot be negative.")}
_REMINDER = gettext_lazy("Choose between 1 hour and 14 days.")
REMINDER_ERRORS: dict[str, Any] = {"min_value": _REMINDER, "max_value": _REMINDER}


class LinkSerializer(serializers.Serializer):
    """Create with `patient` and either `template` or `sessions` + `total_price`."""

    patient = TenantPrimaryKeyField(Patient)
    template = VisibleTemplateField(required=False, allow_null=True)
    sessions = IntegerField(required=False, min_value=1, max_value=MAX_SESSIONS, error_messages=SESSIONS_ERRORS)
    total_price = money_field(required=False, min_value=Decimal(0), error_messages=AMOUNT_ERRORS)
    paid_at = serializers.DateField(required=False, allow_null=True)
    installments = IntegerField(required=False, min_value=1, max_value=MAX_INSTALLMENTS)
    insurer = CharField(required=False, allow_blank=True, max_length=200)
    authorization = CharField(required=False, allow_blank=True, max_length=100)
    room = TenantPrimaryKeyField(Room, required=False, allow_null=True)
    mobile = CharField(required=False, allow_blank=True, max_length=30)
    reminder_hours = IntegerField(
        required=False, allow_null=True, min_value=1, max_value=24 * 14, error_messages=REMINDER_ERRORS
    )
    notes = CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("template") is None and ("sessions" not in attrs or "total_price" not in attrs):
            raise serializers.ValidationError(
                {"template": [_("Give a template, or the number of sessions and the total price.")]}
            )
        return attrs


class ChangeSerializer(serializers.Serializer):
    """A manual change (K7): only the fields sent are changed."""

    sessions_total = IntegerField(required=False, min_value=1, max_value=MAX_SESSIONS, error_messages=SESSIONS_ERRORS)
    limits = serializers.ChoiceField(
        choices=list(ledger.Limits.choices),
        required=False,
        help_text="Raising the sessions of a package with budget limits: "
        "`grow` (the limits make room for the new sessions) or `keep` (they stay as they are).",
    )
    amount_total = money_field(required=False, min_value=Decimal(0), error_messages=AMOUNT_ERRORS)
    paid_at = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=[PackageStatus.ACTIVE, PackageStatus.INACTIVE], required=False)
    notes = CharField(required=False, allow_blank=True)


class PackageHistoryEntrySerializer(serializers.Serializer):
    kind = CharField()
    created_at = serializers.DateTimeField()
    status = CharField()
    note = CharField()
    sessions_balance = IntegerField()
    amount_balance = money_field()
    average_price = money_field()
    appointment = IntegerField(source="session", allow_null=True)
    by = serializers.SerializerMethodField(help_text="Who made the change (their name); null when automatic.")

    def get_by(self, row: Any) -> str | None:
        return person_name(row.actor) or None


class PatientPackageFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    clinic = IdFilter(field_name="clinic_id")
    status = filters.ChoiceFilter(choices=PackageStatus.choices)

    class Meta:
        model = PatientPackage
        fields: list[str] = []


class PatientPackageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Packages sold to patients. `PATCH` is a manual change of sessions,
    total value, payment date, status or notes."""

    serializer_class = PatientPackageSerializer
    filterset_class = PatientPackageFilter
    write_permission = Perm.LINK_PACKAGES
    action_permissions = {
        "partial_update": Perm.CHANGE_PACKAGE_VALUES,
        "renew": Perm.CHANGE_PACKAGE_VALUES,
    }

    def get_base_queryset(self) -> QuerySet[PatientPackage]:
        return selectors.patient_packages()

    def _respond(self, package: PatientPackage, code: int = status.HTTP_200_OK) -> Response:
        # Read again after the entry point committed: another request may have
        # deleted the package in between, which is a 404, not a 500.
        fresh = self.get_queryset().filter(pk=package.pk).first()
        if fresh is None:
            raise NotFound(_("This package was deleted meanwhile."))
        return Response(PatientPackageSerializer(fresh).data, status=code)

    @extend_schema(request=LinkSerializer, responses={201: PatientPackageSerializer})
    def create(self, request: Request) -> Response:
        payload = LinkSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        patient: Patient = data.pop("patient")
        package = ledger.package_link(
            patient=patient,
            clinic=request.clinic,  # type: ignore[attr-defined]
            actor=request.user,  # type: ignore[arg-type]
            **data,
        )
        return self._respond(package, status.HTTP_201_CREATED)

    @extend_schema(request=ChangeSerializer, responses=PatientPackageSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        package = self.get_object()
        payload = ChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ledger.package_change(package=package, actor=request.user, **payload.validated_data)  # type: ignore[arg-type]
        return self._respond(package)

    @extend_schema(responses=PackageHistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """The package's ledger, oldest first: seed 001's history columns."""
        package = self.get_object()
        access_log_record(
            request=request, patients=[package.patient], channel=AccessChannel.API, what="package history"
        )
        page = self.paginate_queryset(selectors.package_entries(package))
        assert page is not None
        rows = history_rows(page, ZoneInfo(package.clinic.time_zone), package.clinic.currency)
        return self.get_paginated_response(PackageHistoryEntrySerializer(rows, many=True).data)

    @extend_schema(request=None, responses=PatientPackageSerializer)
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, pk: str | None = None) -> Response:
        """Start the next monthly cycle now."""
        package = self.get_object()
        if ledger.package_renew(package=package, actor=request.user) is None:  # type: ignore[arg-type]
            raise ValidationFailed(_("This package is already renewed for that month."), code="already_renewed")
        return self._respond(package)
