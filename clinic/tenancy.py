"""The tenant boundary of a request.

`TenantMiddleware` finds who is asking (session user, or API token), opens the
django-scopes scope of their organization around the rest of the request, and
picks the clinic they are working in: the one chosen in the navbar (stored in
the session) or, for API clients, the `X-Clinic` header; by default the
central clinic, else the first by name.

Requests without an organization (anonymous visitors, installation operators)
get no scope at all, so any tenant query they reach raises ScopeError instead
of reading data. Public pages that serve a tenant (a self-registration link)
open the scope of the object they resolved, with `organization_scope`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django_scopes import get_scope, scope

from clinic import tokens
from clinic.models import Membership, Organization, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

SESSION_CLINIC_KEY = "clinic_id"
CLINIC_HEADER = "HTTP_X_CLINIC"


@contextmanager
def organization_scope(organization: Organization | int) -> Iterator[None]:
    """Open the tenant scope of one organization.

    Never pass None: django-scopes treats a None value as "no filter".
    """
    organization_id = organization.pk if isinstance(organization, Organization) else organization
    if not isinstance(organization_id, int):
        raise ValueError("organization_scope needs an organization or its integer id")
    with scope(organization=organization_id):
        yield


def scoped_organization() -> int | None:
    """The one organization the open scope admits (`organization_scope`);
    None when it admits none, several or every one."""
    scope = get_scope()
    organization = scope.get("organization") if scope.get("_enabled", True) else None
    return organization if isinstance(organization, int) else None


def memberships_for_user(user: User) -> list[Membership]:
    """The user's memberships in their organization, central clinic first."""
    memberships = list(
        Membership.objects.filter(user=user, clinic__is_active=True)
        .select_related("clinic", "organization")
        .order_by("-clinic__is_central", "clinic__name", "pk")
    )
    for membership in memberships:
        # The same organization row: reading `request.clinic.organization`
        # (catalog sharing, settings) costs no query.
        membership.clinic.organization = membership.organization
    return memberships


def _token_user(request: HttpRequest) -> User | None:
    """Resolve `Authorization: Token <key>` once; DRF's authentication reuses it."""
    keyword, _sep, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if keyword != "Token" or not key.strip():
        return None
    token = tokens.token_for_key(key.strip())
    if token is None:
        return None
    request.token_auth = (token.user, token)  # type: ignore[attr-defined]
    return token.user


def _requesting_user(request: HttpRequest) -> User | None:
    user: User | AnonymousUser = request.user
    if isinstance(user, User) and user.is_authenticated:
        return user
    return _token_user(request)


def _choose_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    if not memberships:
        return None
    wanted = request.META.get(CLINIC_HEADER) or request.session.get(SESSION_CLINIC_KEY)
    if wanted is not None:
        for membership in memberships:
            if str(membership.clinic_id) == str(wanted):
                return membership
    return memberships[0]


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organization = None  # type: ignore[attr-defined]
        request.clinic = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]

        user = _requesting_user(request)
        if user is None or user.organization_id is None:
            return self.get_response(request)

        with organization_scope(user.organization_id):
            memberships = memberships_for_user(user)
            header_clinic = request.META.get(CLINIC_HEADER)
            if header_clinic and not any(str(m.clinic_id) == header_clinic for m in memberships):
                return JsonResponse(
                    {"code": "not_found", "detail": _("Clinic not found."), "fields": {"X-Clinic": [header_clinic]}},
                    status=404,
                )
            membership = _choose_membership(request, memberships)
            request.memberships = memberships  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            request.clinic = membership.clinic if membership else None  # type: ignore[attr-defined]
            request.organization = (  # type: ignore[attr-defined]
                membership.organization if membership else Organization.objects.get(pk=user.organization_id)
            )
            return self.get_response(request)
