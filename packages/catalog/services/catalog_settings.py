"""The organization's catalog settings (T3, T4)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from clinic.errors import ValidationFailed
from clinic.models import CatalogSharing, Organization, Role
from clinic.permissions import Perm


@transaction.atomic
def catalog_settings_update(
    *, organization: Organization, catalog_sharing: str, catalog_roles: Iterable[str]
) -> Organization:
    """Which shared items clinics see (T3) and which roles manage the catalog (T4).

    Owners always keep the permission, so that nobody locks the catalog away.
    """
    if catalog_sharing not in CatalogSharing.values:
        raise ValidationFailed(fields={"catalog_sharing": [_("Select a valid choice.")]})
    roles = set(catalog_roles) | {Role.OWNER.value}
    unknown = roles - set(Role.values)
    if unknown:
        raise ValidationFailed(fields={"catalog_roles": [_("Unknown role.")]})
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    overrides = dict(organization.permission_overrides or {})
    overrides[Perm.MANAGE_CATALOG.value] = [role for role in Role.values if role in roles]
    organization.catalog_sharing = catalog_sharing
    organization.permission_overrides = overrides
    organization.save()
    return organization
