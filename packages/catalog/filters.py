"""List filters of the catalog (S4), one definition for pages, API and Excel."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet, TextChoices
from django.utils.translation import gettext_lazy as _

from packages.catalog.models import PackageTemplate, Service


class Status(TextChoices):
    ALL = "all", _("All")
    ACTIVE = "active", _("Active")
    DEACTIVATED = "deactivated", _("Deactivated")


class _CatalogFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        method="filter_name",
        label=_("Name"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search by name")}),
    )
    status = django_filters.ChoiceFilter(
        choices=Status.choices, method="filter_status", label=_("Status"), empty_label=None
    )
    shared = django_filters.BooleanFilter(field_name="is_shared", label=_("Shared"))

    def filter_name(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(name__icontains=value.strip()) if value.strip() else queryset

    def filter_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == Status.ACTIVE:
            return queryset.filter(is_active=True)
        if value == Status.DEACTIVATED:
            return queryset.filter(is_active=False)
        return queryset


class ServiceFilter(_CatalogFilter):
    """`name` matches the name or the code."""

    class Meta:
        model = Service
        fields = ["name", "status", "shared"]

    def filter_name(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value)) if value else queryset


class PackageTemplateFilter(_CatalogFilter):
    class Meta:
        model = PackageTemplate
        fields = ["name", "status", "shared"]


def page_filter_data(params: Any) -> dict[str, Any]:
    """A page's filters: the query string, showing active items unless told otherwise."""
    data = {key: params.get(key) for key in ("name", "status", "shared") if params.get(key) not in (None, "")}
    data.setdefault("status", Status.ACTIVE.value)
    return data
