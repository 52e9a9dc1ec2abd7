"""Writes on package templates (S2, S3, S5) and a clinic's own items in a
shared template (T3)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from clinic import money
from clinic.errors import ValidationFailed, full_clean, model_errors, raise_if
from clinic.models import Clinic
from packages.catalog import selectors
from packages.catalog.errors import SharedReadOnly
from packages.catalog.models import (
    MAX_SESSIONS,
    CommissionKind,
    PackageTemplate,
    PackageTemplateItem,
    PackageTemplateServiceLimit,
    Posting,
    Renewal,
    Service,
)
from packages.catalog.services._common import require_owner, save


@dataclass(frozen=True)
class TemplateItemInput:
    service: Service
    quantity: int


@dataclass(frozen=True)
class ServiceLimitInput:
    service: Service
    max_quantity: int | None = None
    max_amount: Decimal | None = None


@dataclass(frozen=True)
class LimitsInput:
    max_appointments: int | None = None
    max_amount: Decimal | None = None
    services: tuple[ServiceLimitInput, ...] = ()


@dataclass(frozen=True)
class TemplateInput:
    """Everything the owning clinic sets on a template (its items are the
    template's own, shared with the clinics that see it)."""

    name: str
    price: Decimal
    items: tuple[TemplateItemInput, ...]
    fixed_sessions: int | None = None
    validity_days: int | None = None
    renewal: str = Renewal.NONE
    posting: str = Posting.PER_PROCEDURE
    commission_kind: str = CommissionKind.NONE
    commission_value: Decimal = money.ZERO
    trigger_service: Service | None = None
    limits: LimitsInput = field(default_factory=LimitsInput)
    is_shared: bool = False


def _check_services(*, clinic: Clinic, services: Sequence[Service], field: str, keep: set[int] | None = None) -> None:
    """Every service is one `clinic` sees (else "not found", which leaks nothing)
    and, unless already in the template (`keep`), active."""
    wanted = {service.pk for service in services}
    if not wanted:
        return
    visible = dict(selectors.visible_services(clinic=clinic).filter(pk__in=wanted).values_list("pk", "is_active"))
    if set(visible) != wanted:
        raise ValidationFailed(fields={field: [_("Select a valid service.")]})
    inactive = [service.name for service in services if not visible[service.pk] and service.pk not in (keep or set())]
    if inactive:
        raise ValidationFailed(
            fields={field: [_("The service “%(name)s” is deactivated.") % {"name": name} for name in inactive]}
        )


def _check_items(items: Sequence[TemplateItemInput], *, field: str = "items") -> None:
    seen: set[int] = set()
    for item in items:
        if item.service.pk in seen:
            raise ValidationFailed(
                fields={field: [_("“%(name)s” is listed twice: add up the quantities.") % {"name": item.service.name}]}
            )
        seen.add(item.service.pk)
        if not 1 <= item.quantity <= MAX_SESSIONS:
            raise ValidationFailed(fields={field: [_("A quantity is between 1 and %(max)s.") % {"max": MAX_SESSIONS}]})


def _validate_template(*, clinic: Clinic, data: TemplateInput, template: PackageTemplate | None) -> None:
    """The rules that span more than one row (the model's `full_clean` checks
    each row)."""
    if not data.items:
        raise ValidationFailed(fields={"items": [_("Add at least one service to the template.")]})
    _check_items(data.items)
    sessions = data.fixed_sessions or sum(item.quantity for item in data.items)
    # Zero sessions has no price per session: a clear error, never NaN.
    money.session_prices(data.price, sessions, field="sessions" if data.fixed_sessions is not None else "items")

    keep: set[int] = set()
    if template is not None:
        keep = set(template.items.filter(clinic=clinic).values_list("service_id", flat=True))
        keep |= set(template.service_limits.values_list("service_id", flat=True))
        if template.trigger_service_id:
            keep.add(template.trigger_service_id)
    _check_services(clinic=clinic, services=[item.service for item in data.items], field="items", keep=keep)

    item_services = {item.service.pk for item in data.items}
    limit_services: set[int] = set()
    for limit in data.limits.services:
        if limit.service.pk not in item_services:
            raise ValidationFailed(
                fields={
                    "limits": [_("“%(name)s” has a limit but is not in the template.") % {"name": limit.service.name}]
                }
            )
        if limit.service.pk in limit_services:
            raise ValidationFailed(fields={"limits": [_("“%(name)s” has two limits.") % {"name": limit.service.name}]})
        limit_services.add(limit.service.pk)
        if limit.max_quantity is None and limit.max_amount is None:
            raise ValidationFailed(
                fields={
                    "limits": [
                        _("Set a maximum quantity, a maximum amount, or both for “%(name)s”.")
                        % {"name": limit.service.name}
                    ]
                }
            )

    if data.trigger_service is not None:
        _check_services(clinic=clinic, services=[data.trigger_service], field="trigger_service", keep=keep)
    # Booking the trigger service must name one package to link: one active
    # template per trigger in a clinic (a deactivated one is checked when reactivated).
    if data.trigger_service is not None and (clash := _trigger_clash(clinic, data.trigger_service, template)):
        raise ValidationFailed(fields={"trigger_service": [clash]})

    if data.is_shared:
        # Whoever sees a shared template must see its services too.
        private = sorted(
            {item.service.name for item in data.items if not item.service.is_shared}
            | ({data.trigger_service.name} if data.trigger_service and not data.trigger_service.is_shared else set())
        )
        if private:
            raise ValidationFailed(
                fields={
                    "is_shared": [
                        _("Share these services first, or do not share the template: %(names)s.")
                        % {"names": ", ".join(private)}
                    ]
                }
            )


def _trigger_clash(clinic: Clinic, trigger: Service, template: PackageTemplate | None) -> str | None:
    """Booking the trigger service must name one package to link: one active
    template per trigger in a clinic (a deactivated one is checked when
    reactivated). The refusal, or None."""
    if template is not None and not template.is_active:
        return None
    clash = PackageTemplate.objects.filter(clinic=clinic, is_active=True, trigger_service=trigger)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    other = clash.first()
    if other is None:
        return None
    return _("The template “%(name)s” already starts with this service.") % {"name": other.name}


# A template form's fields that `package_template_check` reads, by the model's names.
_CHECKED_FIELDS = {
    "name": "name", "price": "price", "sessions": "fixed_sessions", "validity_days": "validity_days",
    "renewal": "renewal", "posting": "posting", "commission_kind": "commission_kind",
    "commission_value": "commission_value", "max_appointments": "max_appointments", "max_amount": "max_amount",
    "is_shared": "is_shared",
}  # fmt: skip


def package_template_check(*, clinic: Clinic, data: Mapping[str, Any], template: PackageTemplate | None = None) -> None:
    """The template row's rules (a name the clinic already uses, the
    commission, a trigger service another template starts with) on what a
    form parsed, writing nothing: the page shows them with the form's own
    errors. The rules over items and limits need them all and run when
    saving (`_validate_template`)."""
    probe = (
        copy.copy(template)
        if template is not None
        else PackageTemplate(organization_id=clinic.organization_id, clinic=clinic)
    )
    errors: dict[str, list[str]] = {}
    given = []
    for name, attribute in _CHECKED_FIELDS.items():
        if name not in data:
            continue
        value = data[name]
        if name in ("price", "commission_value", "max_amount") and value is not None:
            try:
                value = money.money(value, field=name)
            except ValidationFailed as error:
                errors.update(error.fields)
                continue
        if name == "name":
            value = str(value or "").strip()
        setattr(probe, attribute, value)
        given.append(attribute)
    if "commission_kind" in data and data["commission_kind"] == CommissionKind.NONE:
        probe.commission_value = money.ZERO
        given.append("commission_value")
    if probe.commission_value is None:
        probe.commission_value = money.ZERO
    by_model = {attribute: name for name, attribute in _CHECKED_FIELDS.items()}
    for attribute, messages in model_errors(probe, given=[*given, "clinic"]).items():
        errors.setdefault(by_model.get(attribute, attribute), []).extend(messages)
    trigger = data.get("trigger_service")
    if trigger is not None and (clash := _trigger_clash(clinic, trigger, template)):
        errors.setdefault("trigger_service", []).append(clash)
    raise_if(errors)


def _apply(template: PackageTemplate, data: TemplateInput) -> None:
    template.name = data.name.strip()
    template.price = money.money(data.price, field="price")
    template.fixed_sessions = data.fixed_sessions
    template.validity_days = data.validity_days
    template.renewal = data.renewal
    template.posting = data.posting
    template.commission_kind = data.commission_kind
    template.commission_value = (
        money.ZERO
        if data.commission_kind == CommissionKind.NONE
        else money.money(data.commission_value, field="commission_value")
    )
    template.trigger_service = data.trigger_service
    template.max_appointments = data.limits.max_appointments
    template.max_amount = (
        None if data.limits.max_amount is None else money.money(data.limits.max_amount, field="max_amount")
    )
    template.is_shared = data.is_shared


def _set_items(*, template: PackageTemplate, clinic: Clinic, items: Sequence[TemplateItemInput]) -> None:
    """Make `clinic`'s items of `template` equal `items`, row by row (saves, not
    bulk writes, so that the history records each change)."""
    existing = {item.service_id: item for item in template.items.filter(clinic=clinic)}
    wanted = {item.service.pk: item for item in items}
    for service_id, item in existing.items():
        if service_id not in wanted:
            item.delete()
    for service_id, entry in wanted.items():
        row = existing.get(service_id)
        if row is None:
            row = PackageTemplateItem(
                organization_id=template.organization_id,
                template=template,
                clinic=clinic,
                service=entry.service,
                quantity=entry.quantity,
            )
        elif row.quantity == entry.quantity:
            continue
        row.quantity = entry.quantity
        full_clean(row, exclude=["template", "clinic", "service"])
        save(row)


def _set_limits(*, template: PackageTemplate, limits: Sequence[ServiceLimitInput]) -> None:
    existing = {limit.service_id: limit for limit in template.service_limits.all()}
    wanted = {limit.service.pk: limit for limit in limits}
    for service_id, old in existing.items():
        if service_id not in wanted:
            old.delete()
    for service_id, entry in wanted.items():
        row = existing.get(service_id)
        if row is None:
            row = PackageTemplateServiceLimit(
                organization_id=template.organization_id, template=template, service=entry.service
            )
        max_amount = None if entry.max_amount is None else money.money(entry.max_amount, field="limits")
        if row.pk and (row.max_quantity, row.max_amount) == (entry.max_quantity, max_amount):
            continue
        row.max_quantity, row.max_amount = entry.max_quantity, max_amount
        full_clean(row, exclude=["template", "service"])
        save(row)


@transaction.atomic
def package_template_create(*, clinic: Clinic, data: TemplateInput) -> PackageTemplate:
    _validate_template(clinic=clinic, data=data, template=None)
    template = PackageTemplate(organization_id=clinic.organization_id, clinic=clinic)
    _apply(template, data)
    full_clean(template)
    save(template)
    _set_items(template=template, clinic=clinic, items=data.items)
    _set_limits(template=template, limits=data.limits.services)
    return template


@transaction.atomic
def package_template_update(
    *, template: PackageTemplate, clinic: Clinic, data: TemplateInput, is_active: bool | None = None
) -> PackageTemplate:
    """Change a template's terms. Packages already linked keep the terms they
    copied when they were linked (X4)."""
    # Lock the template: its items and limits are decided as a whole.
    template = PackageTemplate.objects.select_for_update().get(pk=template.pk)
    require_owner(template, clinic)
    _validate_template(clinic=clinic, data=data, template=template)
    _apply(template, data)
    if is_active is not None:
        template.is_active = is_active
    full_clean(template)
    save(template)
    _set_items(template=template, clinic=clinic, items=data.items)
    _set_limits(template=template, limits=data.limits.services)
    return template


@transaction.atomic
def package_template_set_active(*, template: PackageTemplate, clinic: Clinic, is_active: bool) -> PackageTemplate:
    template = PackageTemplate.objects.select_for_update().get(pk=template.pk)
    require_owner(template, clinic)
    if template.is_active == is_active:
        return template
    if is_active and template.trigger_service_id:
        other = (
            PackageTemplate.objects.filter(
                clinic=clinic, is_active=True, trigger_service_id=template.trigger_service_id
            )
            .exclude(pk=template.pk)
            .first()
        )
        if other is not None:
            raise ValidationFailed(
                _("The template “%(name)s” already starts with the same trigger service.") % {"name": other.name}
            )
    template.is_active = is_active
    template.save()
    return template


@transaction.atomic
def package_template_set_own_items(
    *, template: PackageTemplate, clinic: Clinic, items: Sequence[TemplateItemInput]
) -> PackageTemplate:
    """Set the items `clinic` adds to a template it sees (T3 "own services").

    In another clinic's shared template they are visible only to `clinic`; for
    the owning clinic they are the template's own items.
    """
    template = PackageTemplate.objects.select_for_update().get(pk=template.pk)
    if template.clinic_id == clinic.pk:
        return package_template_update(
            template=template, clinic=clinic, data=replace(template_input_from(template), items=tuple(items))
        )
    if not template.is_shared or not selectors.visible_templates(clinic=clinic).filter(pk=template.pk).exists():
        raise SharedReadOnly()
    _check_items(items)
    keep = set(template.items.filter(clinic=clinic).values_list("service_id", flat=True))
    _check_services(clinic=clinic, services=[item.service for item in items], field="items", keep=keep)
    shared = dict(template.items.filter(clinic_id=template.clinic_id).values_list("service_id", "service__name"))
    duplicated = sorted(shared[item.service.pk] for item in items if item.service.pk in shared)
    if duplicated:
        raise ValidationFailed(
            fields={"items": [_("Already in the shared template: %(names)s.") % {"names": ", ".join(duplicated)}]}
        )
    _set_items(template=template, clinic=clinic, items=items)
    return template


@transaction.atomic
def package_template_delete(*, template: PackageTemplate, clinic: Clinic) -> None:
    """Delete a template with its items and limits. (Once packages are linked
    from templates, a template in use is deactivated instead.)"""
    template = PackageTemplate.objects.select_for_update().get(pk=template.pk)
    require_owner(template, clinic)
    for item in template.items.all():
        item.delete()
    for limit in template.service_limits.all():
        limit.delete()
    template.delete()


def template_input_from(template: PackageTemplate) -> TemplateInput:
    """The template's current terms, as the owning clinic would submit them
    (the base a partial API update changes)."""
    items = template.items.filter(clinic_id=template.clinic_id).select_related("service").order_by("pk")
    limits = template.service_limits.select_related("service").order_by("pk")
    return TemplateInput(
        name=template.name,
        price=template.price,
        items=tuple(TemplateItemInput(service=item.service, quantity=item.quantity) for item in items),
        fixed_sessions=template.fixed_sessions,
        validity_days=template.validity_days,
        renewal=template.renewal,
        posting=template.posting,
        commission_kind=template.commission_kind,
        commission_value=template.commission_value,
        trigger_service=template.trigger_service,
        limits=LimitsInput(
            max_appointments=template.max_appointments,
            max_amount=template.max_amount,
            services=tuple(
                ServiceLimitInput(service=limit.service, max_quantity=limit.max_quantity, max_amount=limit.max_amount)
                for limit in limits
            ),
        ),
        is_shared=template.is_shared,
    )
