"""`/api/v1/receivables/` and `/api/v1/payments/` (B1-B3).

Money is a decimal string with two places. Reading receivables and
payments, and taking or refunding a payment, need the `take_payments`
permission (owners, managers and receptionists by default).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.commissions import commission_report
from billing.models import Allocation, Method, PayerKind, Payment, Receivable
from clinic.api.base import HasActionPermission, TenantViewSet
from clinic.api.fields import BooleanField, CharField, IntegerField, LockedKeyField, TenantPrimaryKeyField, money_field
from clinic.api.filters import IdFilter, query_errors
from clinic.permissions import Perm
from packages.patient_packages.models import PatientPackage
from patients.models import Patient

MAX_RECEIVABLES = 200


class ReceivableSerializer(serializers.ModelSerializer):
    open = money_field(read_only=True)

    class Meta:
        model = Receivable
        fields = [
            "id", "patient", "appointment", "patient_package", "description", "due_date", "amount", "paid", "open",
            "status", "kind", "installment", "installments", "list_amount", "professional", "clinic",
        ]  # fmt: skip
        read_only_fields = fields


class ReceivableFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    status = filters.ChoiceFilter(
        choices=[(key, key) for key in selectors.STATUS_FILTERS], method="by_status", empty_label=None
    )
    start = filters.DateFilter(field_name="due_date", lookup_expr="gte", label="Due on or after")
    end = filters.DateFilter(field_name="due_date", lookup_expr="lte", label="Due on or before")
    service = IdFilter(method="by_service")
    professional = IdFilter(field_name="professional_id")
    patient_package = IdFilter(field_name="patient_package_id")

    class Meta:
        model = Receivable
        fields: list[str] = []

    def by_status(self, queryset: QuerySet[Receivable], name: str, value: str) -> QuerySet[Receivable]:
        return queryset.filter(selectors.STATUS_FILTERS[value])

    def by_service(self, queryset: QuerySet[Receivable], name: str, value: int) -> QuerySet[Receivable]:
        return queryset & selectors.receivable_rows(selectors.ReceivableFilters(service=int(value)))


class ReceivableViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """What patients owe: one row per session charged and per package sale
    installment, with what was paid on it (`status`: open, partial, paid,
    cancelled; the `status` filter's `open` means anything still owed)."""

    serializer_class = ReceivableSerializer
    filterset_class = ReceivableFilter
    action_permissions = {"list": Perm.TAKE_PAYMENTS, "retrieve": Perm.TAKE_PAYMENTS}

    def get_base_queryset(self) -> QuerySet[Receivable]:
        return Receivable.objects.order_by("due_date", "pk")


class AllocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Allocation
        fields = ["receivable", "amount", "kind", "created_at"]
        read_only_fields = fields


class RefundSerializer(serializers.Serializer):
    id = IntegerField(read_only=True)
    amount = money_field(read_only=True)
    reason = CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class PaymentSerializer(serializers.ModelSerializer):
    allocations = AllocationSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)
    refunded = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id", "number", "patient", "method", "amount", "state", "received_at", "allocations", "refunds",
            "refunded", "payer", "payer_name", "patient_package", "received_by", "clinic", "note",
        ]  # fmt: skip
        read_only_fields = fields

    def get_refunded(self, payment: Payment) -> str:
        return str(_refunded(payment))

    def get_state(self, payment: Payment) -> str:
        """received, partly_refunded or refunded."""
        refunded = _refunded(payment)
        if not refunded:
            return "received"
        return "refunded" if refunded >= payment.amount else "partly_refunded"


def _refunded(payment: Payment) -> Decimal:
    return sum((refund.amount for refund in payment.refunds.all()), Decimal("0.00"))


class PaymentInputSerializer(serializers.Serializer):
    patient = TenantPrimaryKeyField(Patient, required=False)
    method = serializers.ChoiceField(choices=Method.choices)
    amount = money_field(min_value=Decimal("0.00"), required=False)
    receivables = serializers.ListField(
        child=IntegerField(min_value=1), max_length=MAX_RECEIVABLES, required=False, default=list
    )
    patient_package = LockedKeyField(PatientPackage, required=False)
    confirm_price = BooleanField(required=False, default=False)
    use_credit = BooleanField(required=False, default=False)
    payer = serializers.ChoiceField(choices=PayerKind.choices, required=False, default=PayerKind.PATIENT)
    received_at = serializers.DateTimeField(required=False)
    note = CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        # Which fields a payment needs depends on its method: said here, in
        # words, since a schema cannot say it.
        if data["method"] == Method.PACKAGE:
            if "patient_package" not in data:
                errors["patient_package"] = [_("A payment from a package names the package.")]
            if not data["receivables"]:
                errors["receivables"] = [_("A payment from a package names the receivables it pays.")]
        else:
            for name in ("patient", "amount"):
                if name not in data:
                    errors[name] = [_("Required unless the payment is from a package.")]
            if "patient_package" in data:
                errors["patient_package"] = [_("Only a payment from a package names a package.")]
        if errors:
            raise serializers.ValidationError(errors)
        return data


class RefundInputSerializer(serializers.Serializer):
    amount = money_field(min_value=Decimal("0.01"), required=False)
    receivables = serializers.ListField(child=IntegerField(min_value=1), max_length=MAX_RECEIVABLES, required=False)
    reason = CharField(max_length=300, required=False, allow_blank=True, default="")


class PaymentFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    method = filters.ChoiceFilter(choices=Method.choices)
    start = filters.DateFilter(field_name="received_at__date", lookup_expr="gte")
    end = filters.DateFilter(field_name="received_at__date", lookup_expr="lte")

    class Meta:
        model = Payment
        fields: list[str] = []


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Payments: never edited or deleted. `POST` takes money and allocates it
    to the listed receivables in order (the rest is the patient's account
    credit), or pays the listed sessions from a package (`method: package`;
    409 `price_mismatch` unless `confirm_price`, 400 `package_exhausted`).
    `POST {id}/refund/` gives back an amount or the listed receivables."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    write_permission = Perm.TAKE_PAYMENTS
    action_permissions = {"list": Perm.TAKE_PAYMENTS, "retrieve": Perm.TAKE_PAYMENTS, "receipt": Perm.TAKE_PAYMENTS}

    def get_base_queryset(self) -> QuerySet[Payment]:
        if self.action in ("list", "retrieve"):
            return selectors.payment_list()
        return Payment.objects.all()

    def _read(self, payment: Payment, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.payment_list().get(pk=payment.pk)
        return Response(PaymentSerializer(fresh).data, status=code)

    @extend_schema(request=PaymentInputSerializer, responses={201: PaymentSerializer})
    def create(self, request: Request) -> Response:
        payload = PaymentInputSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["method"] == Method.PACKAGE:
            payment = services.payment_from_package(
                package=data["patient_package"], receivables=data["receivables"], confirm_price=data["confirm_price"],
                patient=data.get("patient"), actor=request.user, note=data["note"],  # type: ignore[arg-type]
            )  # fmt: skip
        else:
            payment = services.payment_take(
                clinic=request.clinic,  # type: ignore[attr-defined]
                patient=data["patient"], method=data["method"], amount=data["amount"],
                receivables=data["receivables"], payer=data["payer"], use_credit=data["use_credit"],
                received_at=data.get("received_at"), note=data["note"], actor=request.user,  # type: ignore[arg-type]
            )  # fmt: skip
        return self._read(payment, status.HTTP_201_CREATED)

    @extend_schema(request=RefundInputSerializer, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    def refund(self, request: Request, pk: str | None = None) -> Response:
        payment = self.get_object()
        payload = RefundInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.payment_refund(
            payment=payment, amount=data.get("amount"), receivables=data.get("receivables"), reason=data["reason"],
            actor=request.user,  # type: ignore[arg-type]
        )  # fmt: skip
        return self._read(payment)

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The payment's receipt (PDF).")})
    def receipt(self, request: Request, pk: str | None = None) -> HttpResponse:
        """`GET /api/v1/payments/{id}/receipt.pdf` (routed in `clinic.api.urls`: the
        router would add a slash after the file name)."""
        from billing.exporters import receipt_pdf

        payment = self.get_object()
        response = HttpResponse(receipt_pdf(payment), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="receipt-{payment.number}.pdf"'
        return response


class CommissionQuerySerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    professional = serializers.IntegerField(required=False, min_value=1)  # a query string: "5" is 5

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["end"] < data["start"]:
            raise serializers.ValidationError({"end": ["The end must be after the start."]})
        if (data["end"] - data["start"]).days > 366:
            raise serializers.ValidationError({"end": ["Choose at most a year."]})
        return data


class CommissionLineSerializer(serializers.Serializer):
    date = serializers.DateTimeField(source="when")
    session = IntegerField()
    session_start = serializers.DateTimeField(allow_null=True)
    patient = CharField()
    package = CharField()
    value = money_field()
    commission = money_field()
    reversal = BooleanField()


class ProfessionalCommissionSerializer(serializers.Serializer):
    professional = IntegerField(source="professional_id", allow_null=True)
    name = CharField()
    sessions = IntegerField()
    total = money_field()
    lines = CommissionLineSerializer(many=True)


class CommissionReportSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    total = money_field()
    professionals = ProfessionalCommissionSerializer(many=True)


class CommissionReportView(APIView):
    """`GET /api/v1/reports/commissions/?start=&end=&professional=`: each
    professional's commissions in the caller's clinic (B5), the sessions
    behind each sum, reversals of sessions credited back negative."""

    permission_classes = [permissions.IsAuthenticated, HasActionPermission]

    def required_permission(self) -> Perm:
        return Perm.EXPORT_REPORTS

    @extend_schema(parameters=[CommissionQuerySerializer], responses=CommissionReportSerializer)
    def get(self, request: Request) -> Response:
        query = CommissionQuerySerializer(data=request.query_params)
        valid = query.is_valid()
        errors = {
            **({} if valid else query.errors),
            **query_errors(request.query_params, dict.fromkeys(query.fields, "typed")),
        }
        if errors:
            raise serializers.ValidationError(errors)
        data = query.validated_data
        report = commission_report(
            clinic=request.clinic,  # type: ignore[attr-defined]
            start=data["start"], end=data["end"], professional=data.get("professional"),
        )  # fmt: skip
        body = {
            "start": data["start"], "end": data["end"], "total": sum((r.total for r in report), Decimal("0.00")),
            "professionals": report,
        }  # fmt: skip
        return Response(CommissionReportSerializer(body).data)
