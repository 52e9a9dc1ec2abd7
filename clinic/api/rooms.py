"""`/api/v1/rooms/`: the treatment rooms of the organization's clinics.

Same rules as professionals: the list shows the current clinic unless
`?clinic=<id>`; `?is_active=` filters; writes need `configure_clinic` in the
current clinic and in the room's; no DELETE (``PATCH {"is_active": false}``).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from clinic import resources
from clinic.api.base import TenantViewSet
from clinic.api.fields import TenantPrimaryKeyField
from clinic.api.filters import IdFilter
from clinic.api.professionals import require_manage_in
from clinic.errors import ValidationFailed
from clinic.models import Clinic, Room
from clinic.permissions import Perm


class RoomSerializer(serializers.ModelSerializer):
    clinic = TenantPrimaryKeyField(Clinic, required=False, help_text="Default: the caller's current clinic.")

    class Meta:
        model = Room
        fields = ["id", "name", "clinic", "is_active"]
        read_only_fields = ["id"]
        # Uniqueness of the name in its clinic is the service's (and the database's) job.
        validators: list[Any] = []


class RoomFilter(django_filters.FilterSet):
    clinic = IdFilter(field_name="clinic_id")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Room
        fields = ["clinic", "is_active"]


class RoomViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """Rooms of the caller's organization (list: of the current clinic unless `?clinic=`)."""

    serializer_class = RoomSerializer
    filterset_class = RoomFilter
    write_permission = Perm.CONFIGURE_CLINIC

    def get_base_queryset(self) -> models.QuerySet[Room]:
        queryset = Room.objects.order_by("name", "pk")
        request = getattr(self, "request", None)
        if getattr(self, "action", None) == "list" and request is not None and "clinic" not in request.query_params:
            return queryset.filter(clinic=getattr(request, "clinic", None))
        return queryset

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        values = dict(payload.validated_data)
        clinic = values.pop("clinic", None) or getattr(request, "clinic", None)
        if clinic is None:
            raise ValidationFailed(fields={"clinic": [_("This field is required.")]})
        require_manage_in(request, clinic)
        room = resources.room_create(clinic=clinic, **values)
        return Response(self.get_serializer(room).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        room = self.get_object()
        require_manage_in(request, room.clinic)
        payload = self.get_serializer(room, data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        if "clinic" in changes:
            require_manage_in(request, changes["clinic"])
        room = resources.room_update(room=room, **changes)
        return Response(self.get_serializer(room).data)
