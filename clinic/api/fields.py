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

    def __init__(self, model: type[models.Model], *, only: tuple[str, ...] = (), **kwargs: Any) -> None:
        """`only`: the columns the caller reads (the rest load on first use),
        where a write needs little more than the row's id."""
        # No queryset here: DRF copies every field of a serializer per request,
        # and `get_queryset` below (which DRF then requires no queryset for)
        # builds the scoped one when a value is looked up.
        self.model = model
        self.only = only
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = self.model._default_manager.all()
        return queryset.only(*self.only) if self.only else queryset


@extend_schema_field(OpenApiTypes.INT)
class LockedKeyField(serializers.IntegerField):
    """The id of a row the entry point locks and checks itself (a package a
    booking takes a session of): no lookup here, which would only read the row
    a moment before the lock reads it again. The value is an unsaved instance
    carrying the id; the entry point answers for an id it does not find."""

    def __init__(self, model: type[models.Model], **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> models.Model:  # type: ignore[override]
        key = super().to_internal_value(data)
        if key < 1:
            self.fail("min_value", min_value=1)
        return self.model(pk=key)

    def to_representation(self, value: Any) -> int:
        return int(value.pk if isinstance(value, models.Model) else value)
