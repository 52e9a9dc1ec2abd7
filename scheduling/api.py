"""`/api/v1/appointments/` and `/api/v1/appointment-statuses/` (SPEC section 10)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, cast

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from clinic.api.base import TenantViewSet
from clinic.api.fields import BooleanField, CharField, DecimalField, IntegerField, LockedKeyField, TenantPrimaryKeyField
from clinic.api.filters import IdFilter, InstantFilter
from clinic.errors import NotFound
from clinic.models import Professional, Room
from clinic.permissions import Perm
from clinic.unset import KEEP
from packages.catalog.models import Service
from packages.patient_packages.models import PatientPackage
from patients.models import Patient
from scheduling import recurrence, selectors, services
from scheduling.locks import AppointmentGone
from scheduling.models import Appointment, AppointmentStatus, EvolutionNote


class LineSerializer(serializers.Serializer):
    service = TenantPrimaryKeyField(Service)
    quantity = IntegerField(min_value=1, max_value=services.MAX_QUANTITY, default=1)
    price = DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)


_INSTANT = serializers.DateTimeField()  # how the fields below write `start` and `end` (stateless)


class AppointmentSerializer(serializers.Serializer):
    """An appointment as the API shows it. A plain serializer with its fields
    spelled out: a ModelSerializer would introspect the model on every
    response of the hot booking path."""

    id = IntegerField(read_only=True)
    clinic = IntegerField(source="clinic_id", read_only=True)
    patient = IntegerField(source="patient_id", read_only=True)
    professional = IntegerField(source="professional_id", read_only=True, allow_null=True)
    room = IntegerField(source="room_id", read_only=True, allow_null=True)
    start = serializers.DateTimeField(read_only=True)
    end = serializers.DateTimeField(read_only=True)
    services = serializers.SerializerMethodField()
    status = CharField(read_only=True, help_text="The status code.")
    patient_package = IntegerField(source="patient_package_id", read_only=True, allow_null=True)
    paid_from_package = BooleanField(
        read_only=True, help_text="The session was paid from its package (it stays debited until released)."
    )
    authorization = CharField(read_only=True)
    notes = CharField(read_only=True)
    series = IntegerField(source="series_id", read_only=True, allow_null=True)
    reminder_hours = IntegerField(
        read_only=True, allow_null=True, help_text="Its own reminder lead time; null: the package's or the clinic's."
    )
    booked_online = BooleanField(read_only=True, help_text="Booked by the patient on their page.")
    warnings = serializers.SerializerMethodField()

    def to_representation(self, appointment: Appointment) -> dict[str, Any]:
        """The fields above, written out: DRF would first make this
        serializer its own deep copy of each declared field, which costs a
        booking more Python than any of its statements. The declared fields
        still describe the schema, and a test holds the two to the same
        output (tests/scheduling/test_api.py)."""
        return {
            "id": appointment.pk,
            "clinic": appointment.clinic_id,
            "patient": appointment.patient_id,
            "professional": appointment.professional_id,
            "room": appointment.room_id,
            "start": _INSTANT.to_representation(appointment.start),
            "end": _INSTANT.to_representation(appointment.end),
            "services": self.get_services(appointment),
            "status": appointment.status,
            "patient_package": appointment.patient_package_id,
            "paid_from_package": appointment.paid_from_package,
            "authorization": appointment.authorization,
            "notes": appointment.notes,
            "series": appointment.series_id,
            "reminder_hours": appointment.reminder_hours,
            "booked_online": appointment.booked_online,
            "warnings": self.get_warnings(appointment),
        }

    @extend_schema_field(LineSerializer(many=True))
    def get_services(self, appointment: Appointment) -> list[dict[str, Any]]:
        lines = self.context.get("lines")
        return [
            {"service": line.service_id, "quantity": line.quantity, "price": str(line.price)}
            for line in (appointment.lines.all() if lines is None else lines)
        ]

    @extend_schema_field(serializers.ListField(child=CharField()))
    def get_warnings(self, appointment: Appointment) -> list[str]:
        return list(self.context.get("warnings", []))


CONFIRM_FUTURE_HELP = (
    "Confirms a debiting status (attended, or a custom status that debits) for a session that starts more than "
    f"{int(services.FUTURE_DEBIT_GRACE.total_seconds() // 60)} minutes from now. Without it such a request is "
    'refused with 400 and code "future_session", whose detail asks the question the calendar asks.'
)


class AppointmentInputSerializer(serializers.Serializer):
    patient = LockedKeyField(Patient)
    professional = TenantPrimaryKeyField(Professional, required=False, allow_null=True)
    room = TenantPrimaryKeyField(Room, required=False, allow_null=True)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(required=False, allow_null=True)
    services = LineSerializer(many=True)
    status = CharField(required=False, default="scheduled")
    patient_package = LockedKeyField(PatientPackage, required=False, allow_null=True)
    authorization = CharField(required=False, allow_blank=True, default="")
    notes = CharField(required=False, allow_blank=True, default="")
    reminder_hours = IntegerField(required=False, allow_null=True, min_value=0, max_value=24 * 14)
    confirm_future = BooleanField(required=False, default=False, help_text=CONFIRM_FUTURE_HELP)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A package names its patient, and the booking compares the two on the
        # row it locks: only without one is the patient looked up (a booking
        # reads little of them).
        if attrs.get("patient_package") is None:
            fields = ("id", "organization_id", "clinic_id")
            attrs["patient"] = cast(LockedKeyField, self.fields["patient"]).look_up(attrs["patient"], only=fields)
        return attrs


class AppointmentChangeSerializer(serializers.Serializer):
    """PATCH: `status` runs the transition; other fields move or edit."""

    status = CharField(required=False)
    professional = TenantPrimaryKeyField(Professional, required=False, allow_null=True)
    room = TenantPrimaryKeyField(Room, required=False, allow_null=True)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    services = LineSerializer(many=True, required=False)
    patient_package = LockedKeyField(PatientPackage, required=False, allow_null=True)
    authorization = CharField(required=False, allow_blank=True)
    notes = CharField(required=False, allow_blank=True)
    reminder_hours = IntegerField(required=False, allow_null=True, min_value=0, max_value=24 * 14)
    confirm_future = BooleanField(required=False, default=False, help_text=CONFIRM_FUTURE_HELP)


class ReminderSerializer(serializers.Serializer):
    channel = CharField(read_only=True)
    status = CharField(read_only=True)
    due_at = serializers.DateTimeField(read_only=True)
    note = CharField(read_only=True)
    to = CharField(source="message.to", read_only=True, default=None, allow_null=True)
    delivery = CharField(source="message.status", read_only=True, default=None, allow_null=True)


class FollowingSerializer(serializers.Serializer):
    """Change this occurrence and the following ones of its series."""

    time = serializers.TimeField(required=False, help_text="New time of day, e.g. 14:30; each keeps its date.")
    professional = TenantPrimaryKeyField(Professional, required=False, allow_null=True)
    room = TenantPrimaryKeyField(Room, required=False, allow_null=True)


class EvolutionNoteSerializer(serializers.ModelSerializer):
    author = CharField(read_only=True)

    class Meta:
        model = EvolutionNote
        fields = ["id", "author", "text", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


def _lines(items: list[dict[str, Any]]) -> list[services.LineInput]:
    return [services.LineInput(item["service"], item.get("quantity", 1), item.get("price")) for item in items]


@contextlib.contextmanager
def _found() -> Iterator[None]:
    """Around an entry point given `object_stub()`: the row it did not find
    under its lock is another organization's, missing or just deleted, a 404
    alike (no earlier read of ours could tell "deleted meanwhile")."""
    try:
        yield
    except AppointmentGone as gone:
        raise NotFound() from gone


class AppointmentFilter(filters.FilterSet):
    start = InstantFilter(field_name="end", lookup_expr="gt", label="Appointments ending after")
    end = InstantFilter(field_name="start", lookup_expr="lt", label="Appointments starting before")
    professional = IdFilter(field_name="professional_id")
    room = IdFilter(field_name="room_id")
    patient = IdFilter(field_name="patient_id")
    status = filters.CharFilter(field_name="status")
    clinic = IdFilter(field_name="clinic_id")

    class Meta:
        model = Appointment
        fields: list[str] = []


class AppointmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet):
    """Appointments. `PATCH {"status": code}` moves one through the transition
    service (debiting, crediting or releasing its package session); a
    debiting status for a session still ahead needs `"confirm_future": true`
    (else 400 `future_session`, as the calendar asks first); `DELETE`
    releases the session (credited back when it had been debited)."""

    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter
    write_permission = Perm.BOOK_APPOINTMENTS
    action_permissions = {"evolution_notes": Perm.VIEW_CLINICAL_NOTES}

    def get_base_queryset(self) -> QuerySet[Appointment]:
        if self.action in ("list", "retrieve"):
            return selectors.appointment_list()
        # A write only needs to know the row is there and the caller's: the
        # entry point locks and reads it again.
        return Appointment.objects.all()

    def _respond(self, booking: services.Booking, code: int = status.HTTP_200_OK) -> Response:
        """The appointment as the entry point committed it (no second read:
        a request that deleted it right after cannot turn this into a 500)."""
        appointment = booking.appointment
        lines = booking.lines if booking.lines is not None else selectors.appointment_lines(appointment)
        context = {"warnings": booking.warnings, "lines": lines}
        return Response(AppointmentSerializer(appointment, context=context).data, status=code)

    @extend_schema(request=AppointmentInputSerializer, responses={201: AppointmentSerializer})
    def create(self, request: Request) -> Response:
        payload = AppointmentInputSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        booking = services.appointment_book(
            clinic=request.clinic,  # type: ignore[attr-defined]
            actor=request.user,  # type: ignore[arg-type]
            lines=_lines(data.pop("services")),
            **data,
        )
        return self._respond(booking, status.HTTP_201_CREATED)

    @extend_schema(request=AppointmentChangeSerializer, responses=AppointmentSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        appointment = cast(Appointment, self.object_stub())
        payload = AppointmentChangeSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        # One entry point: the move and the status change commit together or not at all.
        with _found():
            booking = services.appointment_update(
                appointment=appointment,
                actor=request.user,  # type: ignore[arg-type]
                start=data.get("start"),
                end=data.get("end"),
                professional=data.get("professional", KEEP),
                room=data.get("room", KEEP),
                lines=_lines(data["services"]) if "services" in data else None,
                patient_package=data.get("patient_package", KEEP),
                authorization=data.get("authorization"),
                notes=data.get("notes"),
                status=data.get("status"),
                reminder_hours=data.get("reminder_hours", KEEP),
                confirm_future=data.get("confirm_future", False),
            )
        return self._respond(booking)

    @extend_schema(responses=ReminderSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def reminders(self, request: Request, pk: str | None = None) -> Response:
        """The appointment's reminders (A7): one per channel, with its state and,
        once sent, the address and what the provider said of the delivery."""
        appointment = self.get_object()
        rows = appointment.reminders.select_related("message").order_by("channel")
        return Response(ReminderSerializer(rows, many=True).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with _found():
            services.appointment_delete(
                appointment=cast(Appointment, self.object_stub()),
                actor=request.user,  # type: ignore[arg-type]
            )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=FollowingSerializer, responses=AppointmentSerializer(many=True))
    @action(detail=True, methods=["post"], pagination_class=None)
    def following(self, request: Request, pk: str | None = None) -> Response:
        """Edit "this and the following" occurrences of a recurring series:
        a new time of day, professional or room (all or nothing)."""
        appointment = self.get_object()
        payload = FollowingSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        changed = recurrence.appointment_update_following(
            appointment=appointment,
            actor=request.user,  # type: ignore[arg-type]
            time=data.get("time"),
            professional=data.get("professional", KEEP),
            room=data.get("room", KEEP),
        )
        rows = selectors.appointment_list().filter(pk__in=[booking.appointment.pk for booking in changed])
        return Response(AppointmentSerializer(rows, many=True).data)

    @extend_schema(request=EvolutionNoteSerializer, responses=EvolutionNoteSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="evolution-notes", pagination_class=None)
    def evolution_notes(self, request: Request, pk: str | None = None) -> Response:
        """Clinical notes: professionals and owners only. The first note marks
        the session attended (and so debits its package)."""
        appointment = self.get_object()
        if request.method == "POST":
            payload = EvolutionNoteSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            services.evolution_note_add(
                appointment=appointment,
                author=request.user,  # type: ignore[arg-type]
                text=payload.validated_data["text"],
            )
        notes = EvolutionNote.objects.filter(appointment=appointment).select_related("author")
        return Response(EvolutionNoteSerializer(notes, many=True).data)


class AppointmentStatusSerializer(serializers.ModelSerializer):
    name = CharField(max_length=80)

    def to_representation(self, instance: AppointmentStatus) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["name"] = instance.display_name
        return data

    class Meta:
        model = AppointmentStatus
        fields = ["id", "code", "name", "debits", "releases", "color", "is_builtin", "is_active"]
        read_only_fields = ["id", "is_builtin"]
        validators: list[Any] = []


class AppointmentStatusViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, TenantViewSet
):
    """Built-in statuses (codes scheduled, confirmed, attended, missed,
    justified_absence, cancelled) and the organization's own."""

    serializer_class = AppointmentStatusSerializer
    write_permission = Perm.CONFIGURE_CLINIC

    def get_base_queryset(self) -> QuerySet[AppointmentStatus]:
        return AppointmentStatus.objects.order_by("position", "name")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = {k: v for k, v in payload.validated_data.items() if k != "is_active"}
        saved = services.appointment_status_save(organization=request.organization, **data)  # type: ignore[attr-defined]
        return Response(self.get_serializer(saved).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        current = self.get_object()
        payload = self.get_serializer(current, data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        data = {
            "code": current.code,
            "name": current.name,
            "color": current.color,
            "debits": current.debits,
            "releases": current.releases,
        } | {k: v for k, v in payload.validated_data.items() if k not in ("is_active", "code")}
        saved = services.appointment_status_save(organization=request.organization, status=current, **data)  # type: ignore[attr-defined]
        return Response(self.get_serializer(saved).data)
