"""Role-based permissions (T4).

Code asks "may this membership do X?", never "is this user Y?". The defaults
below can be overridden per organization (`Organization.permission_overrides`,
a mapping of permission to the roles that hold it), e.g. a network where only
owners may create package templates.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied

from clinic.models import Role

if TYPE_CHECKING:
    from clinic.models import Membership


class Perm(StrEnum):
    MANAGE_ORGANIZATION = "manage_organization"  # clinics, organization settings, the owner role
    MANAGE_TEAM = "manage_team"  # invite people, their roles per clinic, deactivate (clinic.team)
    CONFIGURE_CLINIC = "configure_clinic"  # professionals, rooms, questionnaires, the self-registration link
    MANAGE_CATALOG = "manage_catalog"  # services and package templates
    MANAGE_PATIENTS = "manage_patients"
    LINK_PACKAGES = "link_packages"
    CHANGE_PACKAGE_VALUES = "change_package_values"
    DELETE_LEDGER_RECORDS = "delete_ledger_records"
    BOOK_APPOINTMENTS = "book_appointments"
    VIEW_CLINICAL_NOTES = "view_clinical_notes"
    TAKE_PAYMENTS = "take_payments"
    EXPORT_REPORTS = "export_reports"
    VIEW_ACCESS_LOG = "view_access_log"


_ALL = frozenset(Perm)
DEFAULT_ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.OWNER: _ALL,
    Role.MANAGER: _ALL - {Perm.MANAGE_ORGANIZATION, Perm.VIEW_CLINICAL_NOTES, Perm.VIEW_ACCESS_LOG},
    Role.RECEPTIONIST: frozenset(
        {Perm.MANAGE_PATIENTS, Perm.LINK_PACKAGES, Perm.BOOK_APPOINTMENTS, Perm.TAKE_PAYMENTS}
    ),
    # Therapists in small practices register their own patients.
    Role.PROFESSIONAL: frozenset({Perm.MANAGE_PATIENTS, Perm.BOOK_APPOINTMENTS, Perm.VIEW_CLINICAL_NOTES}),
}


def roles_with(permission: Perm, overrides: dict[str, list[str]] | None = None) -> frozenset[str]:
    """The roles that hold `permission`, after the organization's overrides."""
    if overrides and permission.value in overrides:
        return frozenset(overrides[permission.value]) & frozenset(Role.values)
    return frozenset(role.value for role, perms in DEFAULT_ROLE_PERMISSIONS.items() if permission in perms)


def membership_has_perm(membership: Membership | None, permission: Perm) -> bool:
    if membership is None:
        return False
    overrides = membership.organization.permission_overrides
    return membership.role in roles_with(permission, overrides)


def request_has_perm(request: Any, permission: Perm) -> bool:
    """May the request's user do this in the clinic they are working in?"""
    return membership_has_perm(getattr(request, "membership", None), permission)


def require_perm(request: Any, permission: Perm) -> None:
    """Refuse a page with 403 when the user's role does not allow `permission`."""
    if not request_has_perm(request, permission):
        raise PermissionDenied
