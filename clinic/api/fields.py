"""Serializer fields that respect the tenant scope."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.db import rows

ID_SCHEMA = {"type": "integer", "minimum": 1}


class JsonTypeMixin:
    """Accept only the JSON type the schema names. DRF's own fields coerce
    (`"true"`, `1` and `"yes"` are booleans, `"5"` is an integer, `5` is a
    string), so a body that breaks the published schema would be accepted."""

    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        wrong = not isinstance(data, self.json_types) or (isinstance(data, bool) and bool not in self.json_types)
        if wrong:
            self.fail("wrong_type")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class BooleanField(JsonTypeMixin, serializers.BooleanField):
    json_types = (bool,)
    default_error_messages = {"wrong_type": _("Send true or false.")}


class IntegerField(JsonTypeMixin, serializers.IntegerField):
    json_types = (int,)
    default_error_messages = {"wrong_type": _("Send a whole number.")}


class CharField(JsonTypeMixin, serializers.CharField):
    json_types = (str,)
    default_error_messages = {"wrong_type": _("Send a string of text.")}


class DecimalField(JsonTypeMixin, serializers.DecimalField):
    """A decimal as a JSON string (`"150.00"`), never a JSON number: a binary
    float cannot hold most cents, and the schema says string. Every
    serializer's decimal is this one (`ClinicConfig.ready` maps model decimals
    to it too)."""

    json_types = (str,)
    default_error_messages = {"wrong_type": _('Send the number as a string, such as "150.00".')}


# DRF's field classes and their strict versions.
STRICT = {
    serializers.BooleanField: BooleanField,
    serializers.IntegerField: IntegerField,
    serializers.CharField: CharField,
}


def strict(field_class: type[serializers.Field]) -> type[serializers.Field]:
    """The strict version of a DRF field class, for `ClinicConfig.ready`'s
    mapping of model fields (a `SlugField` stays a slug, and a string)."""
    for base, strict_class in STRICT.items():
        if field_class is base:
            return strict_class
        if issubclass(field_class, base):
            return type(field_class.__name__, (strict_class, field_class), {"__module__": __name__})
    return field_class


def money_field(**kwargs: Any) -> DecimalField:
    """An amount of money: up to 10 digits and the cents."""
    return DecimalField(max_digits=12, decimal_places=2, **kwargs)


@extend_schema_field(ID_SCHEMA)  # every tenant model's key is an integer from 1
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

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):  # DRF would look up "5", or True as 1
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not self.only and abs(data) < 2**63:
            # The queryset's lookup, without compiling it on every write
            # (a booking looks up its professional and each service).
            found = rows.equal(self.model, "id", data)
            if found is not None:
                if not found:
                    self.fail("does_not_exist", pk_value=data)
                return found[0]
        return super().to_internal_value(data)


@extend_schema_field(ID_SCHEMA)
class LockedKeyField(IntegerField):
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

    def look_up(self, stub: models.Model, *, only: tuple[str, ...] = ()) -> models.Model:
        """The row of a stub this field made, in the request's scope, for a
        serializer whose entry point will not vouch for it: missing or another
        organization's, it fails as `TenantPrimaryKeyField` does."""
        rows = self.model._default_manager.filter(pk=stub.pk)
        row = (rows.only(*only) if only else rows).first()
        if row is None:
            message = serializers.PrimaryKeyRelatedField.default_error_messages["does_not_exist"]
            raise serializers.ValidationError({str(self.field_name): [message.format(pk_value=stub.pk)]})
        return row

    def to_representation(self, value: Any) -> int:
        return int(value.pk if isinstance(value, models.Model) else value)
