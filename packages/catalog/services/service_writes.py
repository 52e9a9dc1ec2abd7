"""Writes on services (S1)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from clinic import money
from clinic.errors import ValidationFailed, full_clean
from clinic.models import Clinic
from packages.catalog import selectors
from packages.catalog.errors import ServiceInUse
from packages.catalog.models import Service
from packages.catalog.services._common import require_owner, save


@transaction.atomic
def service_create(
    *,
    clinic: Clinic,
    name: str,
    price: Decimal,
    code: str = "",
    duration_minutes: int = 50,
    is_shared: bool = False,
) -> Service:
    service = Service(
        organization_id=clinic.organization_id,
        clinic=clinic,
        name=name.strip(),
        code=code.strip().upper(),
        price=money.money(price, field="price"),
        duration_minutes=duration_minutes,
        is_shared=is_shared,
    )
    full_clean(service)
    save(service)
    return service


@transaction.atomic
def service_update(
    *,
    service: Service,
    clinic: Clinic,
    name: str,
    price: Decimal,
    code: str = "",
    duration_minutes: int = 50,
    is_shared: bool = False,
    is_active: bool | None = None,
) -> Service:
    service = Service.objects.select_for_update().get(pk=service.pk)
    require_owner(service, clinic)
    if service.is_shared and not is_shared:
        needed_by = selectors.templates_needing_shared_service(service)
        if needed_by:
            raise ValidationFailed(
                fields={
                    "is_shared": [
                        _("Other clinics or shared package templates use this service: %(names)s.")
                        % {"names": ", ".join(needed_by)}
                    ]
                }
            )
    service.name = name.strip()
    service.code = code.strip().upper()
    service.price = money.money(price, field="price")
    service.duration_minutes = duration_minutes
    service.is_shared = is_shared
    if is_active is not None:
        service.is_active = is_active
    full_clean(service)
    save(service)
    return service


@transaction.atomic
def service_set_active(*, service: Service, clinic: Clinic, is_active: bool) -> Service:
    """Deactivate (or reactivate) a service: it stays in the templates that use
    it, but cannot be added to new ones."""
    service = Service.objects.select_for_update().get(pk=service.pk)
    require_owner(service, clinic)
    if service.is_active != is_active:
        service.is_active = is_active
        service.save()
    return service


@transaction.atomic
def service_delete(*, service: Service, clinic: Clinic) -> None:
    """Delete a service no template refers to; one in use is deactivated instead."""
    service = Service.objects.select_for_update().get(pk=service.pk)
    require_owner(service, clinic)
    if selectors.service_is_used(service):
        raise ServiceInUse()
    service.delete()
