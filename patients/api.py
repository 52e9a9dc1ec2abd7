"""`/api/v1/patients/`: the patient file, its history and access log."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.api.base import TenantViewSet
from clinic.api.fields import BooleanField, CharField, TenantPrimaryKeyField
from clinic.api.filters import IdFilter
from clinic.history import HistoryEntry
from clinic.models import Clinic, Professional
from clinic.permissions import Perm
from patients import selectors, services
from patients.models import AccessChannel, AccessLog, AnamnesisGroup, Patient
from patients.selectors import PatientStatus


class GuardianSerializer(serializers.Serializer):
    name = CharField(source="guardian_name", required=False, allow_blank=True, max_length=200)
    relationship = CharField(source="guardian_relationship", required=False, allow_blank=True, max_length=60)
    document = CharField(source="guardian_document", required=False, allow_blank=True, max_length=40)
    email = serializers.EmailField(source="guardian_email", required=False, allow_blank=True)
    mobile = CharField(source="guardian_mobile", required=False, allow_blank=True, max_length=30)
    send_charges_email = BooleanField(source="guardian_send_charges_email", required=False)
    send_charges_whatsapp = BooleanField(source="guardian_send_charges_whatsapp", required=False)
    send_documents_email = BooleanField(source="guardian_send_documents_email", required=False)
    send_documents_whatsapp = BooleanField(source="guardian_send_documents_whatsapp", required=False)


class AddressSerializer(serializers.Serializer):
    postal_code = CharField(required=False, allow_blank=True, max_length=12)
    street = CharField(required=False, allow_blank=True, max_length=200)
    number = CharField(source="street_number", required=False, allow_blank=True, max_length=20)
    complement = CharField(required=False, allow_blank=True, max_length=100)
    district = CharField(required=False, allow_blank=True, max_length=100)
    city = CharField(required=False, allow_blank=True, max_length=100)
    state = CharField(required=False, allow_blank=True, max_length=50)


_CHOOSE_ONE = gettext_lazy("Choose at least one responsible professional.")


class PatientSerializer(serializers.ModelSerializer):
    professionals = TenantPrimaryKeyField(
        Professional, many=True, allow_empty=False, error_messages={"required": _CHOOSE_ONE, "empty": _CHOOSE_ONE}
    )
    anamnesis_group = TenantPrimaryKeyField(AnamnesisGroup, required=False, allow_null=True)
    guardian = GuardianSerializer(source="*", required=False)
    address = AddressSerializer(source="*", required=False)
    mobile = CharField(required=False, allow_blank=True, max_length=30)
    phone = CharField(required=False, allow_blank=True, max_length=30)
    is_minor = serializers.SerializerMethodField()
    minor_without_guardian = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "clinic",
            "full_name",
            "professionals",
            "birth_date",
            "document",
            "sex",
            "email",
            "mobile",
            "phone",
            "default_payer",
            "default_insurer",
            "insurer_card_number",
            "address",
            "notes",
            "referral_source",
            "guardian",
            "opt_out_sms",
            "opt_out_whatsapp",
            "opt_out_email",
            "anamnesis_group",
            "anamnesis_answers",
            "is_active",
            "self_registered",
            "needs_review",
            "review_note",
            "is_minor",
            "minor_without_guardian",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "clinic",
            "anamnesis_answers",
            "self_registered",
            "needs_review",
            "review_note",
            "created_at",
            "updated_at",
        ]
        # The service validates uniqueness (and the database decides races).
        validators: list[Any] = []
        extra_kwargs: dict[str, dict[str, Any]] = {"document": {"validators": []}}

    def _today(self, patient: Patient) -> Any:
        cache = self.context.setdefault("today_by_clinic", {})  # type: ignore[attr-defined]
        if patient.clinic_id not in cache:
            cache[patient.clinic_id] = services.clinic_today(patient.clinic)
        return cache[patient.clinic_id]

    def get_is_minor(self, patient: Patient) -> bool:
        return patient.is_minor_on(self._today(patient))

    def get_minor_without_guardian(self, patient: Patient) -> bool:
        return patient.is_minor_on(self._today(patient)) and not patient.has_guardian


class PatientFieldChangeSerializer(serializers.Serializer):
    """A field's change: the raw values for programs (`old`, `new`), and as
    the history page shows them (`label`, `old_text`, `new_text`)."""

    field = CharField()
    label = CharField()  # type: ignore[assignment]  # a field named like Field.label
    old = serializers.JSONField(source="old_value", allow_null=True)
    new = serializers.JSONField(source="new_value", allow_null=True)
    old_text = CharField(source="old", allow_null=True)
    new_text = CharField(source="new")


class PatientChangeSerializer(serializers.Serializer):
    date = serializers.DateTimeField(source="when")
    user = CharField(allow_null=True)
    who = CharField()
    type = serializers.SerializerMethodField()
    changes = PatientFieldChangeSerializer(many=True)

    def get_type(self, entry: HistoryEntry) -> str:
        return {"+": "created", "~": "changed", "-": "deleted"}[entry.kind]


class AccessLogSerializer(serializers.ModelSerializer):
    user = CharField()
    what_label = CharField(source="get_what_display")

    class Meta:
        model = AccessLog
        fields = ["accessed_at", "last_accessed_at", "views", "user", "channel", "what", "what_label", "ip_address"]


class PatientFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label="Name (accents ignored), document or phone")
    status = filters.ChoiceFilter(choices=PatientStatus.choices, method="filter_status", empty_label=None)
    professional = IdFilter(field_name="professionals__id")
    clinic = IdFilter(field_name="clinic_id")

    class Meta:
        model = Patient
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        return selectors.patient_search(queryset, value)

    def filter_status(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        clinic: Clinic = self.request.clinic
        ids = selectors.patient_list(status=value, today=services.clinic_today(clinic)).values("pk")
        return queryset.filter(pk__in=ids)


_SERVICE_FIELDS = set(services.PATIENT_FIELDS)


class PatientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Patients of the organization. `DELETE` archives: clinical records are kept
    (health-record retention rules), and `PATCH {"is_active": true}` reactivates."""

    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    write_permission = Perm.MANAGE_PATIENTS
    action_permissions = {"access_log": Perm.VIEW_ACCESS_LOG}

    def get_base_queryset(self) -> QuerySet[Patient]:
        return Patient.objects.select_related("clinic").prefetch_related("professionals").order_by("name_search", "pk")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        services.access_log_record(request=request, patients=page, channel=AccessChannel.API, what="list")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        services.access_log_record(request=request, patients=[patient], channel=AccessChannel.API, what="file")
        return Response(self.get_serializer(patient).data)

    def _service_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in data.items() if name in _SERVICE_FIELDS}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        patient = services.patient_create(
            clinic=request.clinic,  # type: ignore[attr-defined]
            fields=self._service_fields(payload.validated_data),
            professionals=payload.validated_data.get("professionals", []),
        )
        return Response(self.get_serializer(self._fresh(patient)).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        payload = self.get_serializer(patient, data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        patient = services.patient_update(
            patient=patient, fields=self._service_fields(data), professionals=data.get("professionals")
        )
        if "is_active" in data:
            patient = services.patient_set_active(patient=patient, active=data["is_active"])
        return Response(self.get_serializer(self._fresh(patient)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.patient_set_active(patient=self.get_object(), active=False)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _fresh(self, patient: Patient) -> Patient:
        return self.get_queryset().get(pk=patient.pk)

    @extend_schema(responses=PatientChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Who changed what and when (newest first)."""
        patient = self.get_object()
        services.access_log_record(request=request, patients=[patient], channel=AccessChannel.API, what="history")
        page = self.paginate_queryset(selectors.patient_history(patient))
        return self.get_paginated_response(PatientChangeSerializer(page, many=True).data)

    @extend_schema(responses=AccessLogSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="access-log")
    def access_log(self, request: Request, pk: str | None = None) -> Response:
        """Who read this patient's data, when and from where (owners)."""
        patient = self.get_object()
        page = self.paginate_queryset(AccessLog.objects.filter(patient=patient).select_related("user"))
        return self.get_paginated_response(AccessLogSerializer(page, many=True).data)
