"""`/api/v1/messages/`: what was sent to patients and guardians (A7), with
the provider's answer; filters `status` (`failed` also lists interrupted
ones), `channel`, `patient`, `appointment`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework import mixins, serializers

from clinic.api.base import TenantViewSet
from clinic.api.filters import IdFilter
from clinic.permissions import Perm
from patients.messaging.models import Channel, Message, MessageStatus


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "patient", "channel", "kind", "to", "to_guardian", "subject", "text", "appointment", "status",
                  "backend", "answer", "created_at", "sent_at", "delivered_at"]  # fmt: skip
        read_only_fields = fields


class MessageFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=[*MessageStatus.choices], method="by_status")
    channel = filters.ChoiceFilter(choices=Channel.choices)
    patient = IdFilter(field_name="patient_id")
    appointment = IdFilter(field_name="appointment")

    class Meta:
        model = Message
        fields: list[str] = []

    def by_status(self, queryset: QuerySet[Message], name: str, value: Any) -> QuerySet[Message]:
        if value == MessageStatus.FAILED:
            return queryset.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNKNOWN])
        return queryset.filter(status=value)


class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    action_permissions = {"list": Perm.MANAGE_PATIENTS, "retrieve": Perm.MANAGE_PATIENTS}

    def get_base_queryset(self) -> QuerySet[Message]:
        return Message.objects.order_by("-created_at", "-pk")
