"""Base classes every API endpoint inherits.

`TenantViewSet` guarantees three things that subclasses cannot undo:

- its queryset is the scoped queryset of a tenant model, additionally filtered
  by the caller's organization (defence in depth on top of django-scopes);
- a foreign or missing id answers 404 alike (``{"code": "not_found"}``);
- each action declares the permission it needs (`action_permissions`), checked
  against the caller's role in their current clinic.

Subclasses describe their rows in `get_base_queryset()`; overriding
`get_queryset` or `get_object` is refused when the class is defined.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import scope
from rest_framework import permissions, viewsets
from rest_framework.request import Request

from clinic.errors import NotFound
from clinic.models import TenantModel
from clinic.permissions import Perm, membership_has_perm

MAX_KEY = 2**63 - 1  # a bigint primary key


def url_key(raw: object) -> int:
    """The primary key a URL names; 404 for what cannot be one ("abc", 0, a
    number past a bigint), as a lookup of it would find nothing."""
    text = str(raw)
    if not (text.isascii() and text.isdecimal()) or not 1 <= int(text) <= MAX_KEY:
        raise NotFound()
    return int(text)


class HasActionPermission(permissions.BasePermission):
    """The caller belongs to an organization and their role allows the action."""

    message = _("Your role does not allow this action.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(request, "organization", None) is None:
            self.message = _("Your account does not belong to an organization.")
            return False
        required: Perm | None = view.required_permission()
        return required is None or membership_has_perm(getattr(request, "membership", None), required)


class TenantViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, HasActionPermission]
    # action name -> permission required; actions not listed need only membership
    # of the organization (reads), unless listed in `write_permission`.
    action_permissions: ClassVar[dict[str, Perm | None]] = {}
    # The permission every unsafe method needs when its action is not listed above.
    write_permission: ClassVar[Perm | None] = Perm.MANAGE_ORGANIZATION

    _final_methods = ("get_queryset", "get_object")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls._final_methods:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}(); describe rows in get_base_queryset() "
                    "so the tenant filter cannot be bypassed."
                )

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The rows of this endpoint. A class-level `queryset` cannot serve: a
        scoped manager refuses to build one outside a request's scope."""
        raise NotImplementedError(f"{type(self).__name__} must define get_base_queryset()")

    def get_queryset(self) -> models.QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation needs the model, never rows: an empty scope.
            with scope(organization=[]):
                return self.get_base_queryset().none()
        queryset = self.get_base_queryset()
        if not issubclass(queryset.model, TenantModel):
            raise TypeError(f"{queryset.model.__name__} is not a tenant model")
        organization = getattr(self.request, "organization", None)
        if organization is None:
            return queryset.none()
        return queryset.filter(organization=organization)

    def object_stub(self) -> models.Model:
        """An unsaved row carrying the URL's id, for a write whose entry point
        locks and reads the row itself: reading it here first would cost a
        query and decide nothing (the row can change before the lock). Under
        the request's scope the entry point finds another organization's id
        no more than a missing one; the action answers 404 for both. An id
        that cannot be a key answers 404 at once, as `get_object` would."""
        return self.get_queryset().model(pk=url_key(self.kwargs[self.lookup_url_kwarg or self.lookup_field]))

    def filter_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """Filters, search and ordering apply to lists; one row is looked up by
        its id alone (building a FilterSet for it is wasted work)."""
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def required_permission(self) -> Perm | None:
        if self.action in self.action_permissions:
            return self.action_permissions[self.action]
        if self.request.method in permissions.SAFE_METHODS:
            return None
        return self.write_permission
