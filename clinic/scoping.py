"""Helpers around django-scopes shared by managers that are not ScopedManager."""

from typing import Any, TypeVar

from django.db.models import QuerySet
from django_scopes import get_scope
from django_scopes.exceptions import ScopeError

Q = TypeVar("Q", bound=QuerySet[Any])


def scope_filter(queryset: Q, **dimensions: str) -> Q:
    """Filter `queryset` by the active scope, as ScopedManager does.

    `dimensions` maps a scope dimension to the lookup path of the model's field,
    e.g. ``organization="organization"``. Raises ScopeError when a dimension has no
    active scope, and filters nothing when scopes are disabled.
    """
    current = get_scope()
    if not current.get("_enabled", True):
        return queryset
    missing = set(dimensions) - set(current)
    if missing:
        raise ScopeError(f"A scope on dimension(s) {', '.join(sorted(missing))} needs to be active for this query.")
    filters: dict[str, Any] = {}
    for dimension, path in dimensions.items():
        value = current[dimension]
        if isinstance(value, (list, tuple)):
            filters[f"{path}__in"] = value
        elif value is not None:
            filters[path] = value
    return queryset.filter(**filters)
