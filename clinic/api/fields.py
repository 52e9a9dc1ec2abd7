"""Serializer fields that respect the tenant scope."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.INT)  # every tenant model's key is an integer
class TenantPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary key of a tenant model, looked up in the request's scope.

    DRF evaluates a field's `queryset` argument when the serializer class is
    defined, where no scope is open; this field builds it per request instead.
    An id of another organization reads exactly like a missing one
    ("Invalid pk ... object does not exist"), so nothing leaks.
    """

    def __init__(self, model: type[models.Model], **kwargs: Any) -> None:
        # No queryset here: DRF copies every field of a serializer per request,
        # and `get_queryset` below (which DRF then requires no queryset for)
        # builds the scoped one when a value is looked up.
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet[Any]:
        return self.model._default_manager.all()
