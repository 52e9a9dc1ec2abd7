"""Writes on services (S1)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from clinic import money, normalize
from clinic.errors import ValidationFailed, full_clean, model_errors, raise_if
from clinic.models import Clinic, Professional
from packages.catalog import selectors
from packages.catalog.errors import ServiceInUse
from packages.catalog.models import Service, ServiceProfessional
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
    professionals: Sequence[Professional] | None = None,
) -> Service:
    service = Service(
        organization_id=clinic.organization_id,
        clinic=clinic,
        name=name.strip(),
        code=normalize.code_key(code),
        price=money.money(price, field="price"),
        duration_minutes=duration_minutes,
        is_shared=is_shared,
    )
    full_clean(service)
    save(service)
    if professionals is not None:
        _set_providers(service, clinic, professionals)
    return service


def _set_providers(service: Service, clinic: Clinic, professionals: Sequence[Professional]) -> None:
    """The clinic's professionals who provide the service (other clinics' stay)."""
    if any(professional.clinic_id != clinic.pk for professional in professionals):
        raise ValidationFailed(fields={"professionals": [_("Choose professionals of this clinic.")]})
    rows = ServiceProfessional.objects.filter(service=service, professional__clinic=clinic)
    rows.exclude(professional__in=professionals).delete()
    have = set(rows.values_list("professional_id", flat=True))
    ServiceProfessional.objects.bulk_create([
        ServiceProfessional(organization_id=service.organization_id, service=service, professional=professional)
        for professional in professionals if professional.pk not in have
    ])  # fmt: skip


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
    professionals: Sequence[Professional] | None = None,
) -> Service:
    service = Service.objects.select_for_update().get(pk=service.pk)
    require_owner(service, clinic)
    if service.is_shared and not is_shared:
        needed_by = selectors.templates_needing_shared_service(service)
        if needed_by:  # the service's state refuses it, not the request: service_in_use, on the field
            message = _("Other clinics or shared package templates use this service: %(names)s.") % {
                "names": ", ".join(needed_by)
            }
            raise ServiceInUse(message, fields={"is_shared": [message]})
    service.name = name.strip()
    service.code = normalize.code_key(code)
    service.price = money.money(price, field="price")
    service.duration_minutes = duration_minutes
    service.is_shared = is_shared
    if is_active is not None:
        service.is_active = is_active
    full_clean(service)
    save(service)
    if professionals is not None:
        _set_providers(service, clinic, professionals)
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


# Fields of a service a form may send to `service_check`.
_CHECKED_FIELDS = ("name", "code", "price", "duration_minutes", "is_shared")


def service_check(*, clinic: Clinic, data: Mapping[str, Any], service: Service | None = None) -> None:
    """The row's rules `service_create` / `service_update` apply (a name or
    code another service of the clinic has, the price), on what a form
    parsed, writing nothing: the form shows them with its own errors."""
    probe = (
        copy.copy(service) if service is not None else Service(organization_id=clinic.organization_id, clinic=clinic)
    )
    given = [name for name in _CHECKED_FIELDS if name in data]
    errors: dict[str, list[str]] = {}
    for name in given:
        value = data[name]
        if name == "price":
            try:
                value = money.money(value, field="price")
            except ValidationFailed as error:
                errors.update(error.fields)
                continue
        elif name == "code":
            value = normalize.code_key(str(value or ""))
        elif name == "name":
            value = str(value or "").strip()
        setattr(probe, name, value)
    given = [name for name in given if name not in errors]
    for name, messages in model_errors(probe, given=[*given, "clinic"]).items():
        errors.setdefault(name, []).extend(messages)
    raise_if(errors)
