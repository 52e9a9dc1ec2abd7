"""Filter fields whose published schema says what they accept, and which
accept exactly that (the Schemathesis run checks both ways)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from clinic.api.fields import ID_SCHEMA


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """A row's id: a whole number from 1. An id that names no row of the
    caller's organization (another organization's included) matches nothing,
    as a filter should, rather than being refused."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "format": "date-time"})
class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant. Compared in UTC: an offset PostgreSQL cannot take
    (it stops at ±15:59; Python's datetime goes to ±23:59) never reaches it."""

    def filter(self, qs: QuerySet[Any], value: dt.datetime | None) -> QuerySet[Any]:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return super().filter(qs, value)


BOOLEANS = ("true", "false")


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, as strict as the schema it publishes: a filter
    is given once, a typed filter (number, date, choice, boolean) is not blank,
    and a boolean is `true` or `false`. The pages share the same filter sets
    and keep their forgiving forms (a blank field there means "any")."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        errors = self.query_errors(request, filterset)
        if not filterset.is_valid():
            errors = {**translate_validation(filterset.errors).detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return filterset.qs

    @staticmethod
    def query_errors(request: Request, filterset: django_filters.FilterSet) -> dict[str, list[str]]:
        kinds = {
            name: "text" if isinstance(filter_, django_filters.CharFilter) else
            "boolean" if isinstance(filter_, django_filters.BooleanFilter) else "typed"
            for name, filter_ in filterset.filters.items()
        }  # fmt: skip
        return query_errors(request.query_params, kinds)


def query_errors(params: QueryDict, kinds: dict[str, str]) -> dict[str, list[str]]:
    """What the schema refuses of these query parameters, before their own
    validation: `kinds` maps each name to "text" (may be blank), "boolean"
    (`true` or `false`) or "typed" (a number, date or choice: not blank)."""
    errors = {}
    for name, kind in kinds.items():
        values = params.getlist(name)
        if len(values) > 1:
            errors[name] = [_("Give this parameter once.")]
        elif values == [""] and kind != "text":
            errors[name] = [_("This field may not be blank.")]
        elif values and kind == "boolean" and values[0] not in BOOLEANS:
            errors[name] = [_("Enter true or false.")]
    return errors
