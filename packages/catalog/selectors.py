"""Reads of the catalog: what a clinic sees (T3), a template's terms and budget,
and the snapshot a patient package copies (X4)."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from clinic import money
from clinic.errors import NotFound
from clinic.models import CatalogSharing, Clinic
from packages.catalog.budget import Budget, ServiceLimit
from packages.catalog.models import PackageTemplate, PackageTemplateItem, PackageTemplateServiceLimit, Service


def visibility(clinic: Clinic, *, prefix: str = "") -> Q:
    """The catalog rows `clinic` sees: its own, plus what is shared with it.

    Shared means shared by the central clinic, or, when the organization lets
    clinics share among themselves (`catalog_sharing = all_clinics`), by any of
    its clinics. Other organizations' rows are out of the scope anyway.
    """
    own = Q(**{f"{prefix}clinic": clinic})
    shared = Q(**{f"{prefix}is_shared": True})
    if clinic.organization.catalog_sharing != CatalogSharing.ALL_CLINICS:
        shared &= Q(**{f"{prefix}clinic__is_central": True})
    return own | shared


def visible_services(*, clinic: Clinic | None) -> QuerySet[Service]:
    if clinic is None:
        return Service.objects.none()
    return Service.objects.filter(visibility(clinic)).select_related("clinic")


def visible_templates(*, clinic: Clinic | None) -> QuerySet[PackageTemplate]:
    if clinic is None:
        return PackageTemplate.objects.none()
    return PackageTemplate.objects.filter(visibility(clinic))


def items_visible_to(clinic: Clinic) -> QuerySet[PackageTemplateItem]:
    """Template items `clinic` sees: each template's own (its owning clinic's)
    items, then the items `clinic` added itself (T3: "own services")."""
    return (
        PackageTemplateItem.objects.filter(Q(clinic_id=F("template__clinic_id")) | Q(clinic=clinic))
        .annotate(
            own_addition=Case(
                When(clinic_id=F("template__clinic_id"), then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .select_related("service__clinic", "clinic")
        .order_by("template_id", "own_addition", "pk")
    )


def with_visible_items(queryset: QuerySet[PackageTemplate], *, clinic: Clinic) -> QuerySet[PackageTemplate]:
    """Templates with what their list, detail and snapshot need, in constant queries."""
    return queryset.select_related("clinic", "trigger_service").prefetch_related(
        # `visible_items` is declared on the model, for the properties that read it.
        Prefetch("items", queryset=items_visible_to(clinic), to_attr="visible_items"),  # type: ignore[no-redef]
        Prefetch("service_limits", queryset=PackageTemplateServiceLimit.objects.select_related("service")),
    )


def template_list(*, clinic: Clinic | None) -> QuerySet[PackageTemplate]:
    if clinic is None:
        return PackageTemplate.objects.none()
    return with_visible_items(visible_templates(clinic=clinic), clinic=clinic).order_by("name", "pk")


def service_list(*, clinic: Clinic | None) -> QuerySet[Service]:
    return visible_services(clinic=clinic).order_by("name", "pk")


def template_for_clinic(*, clinic: Clinic | None, template_id: int) -> PackageTemplate:
    """A template `clinic` sees, with its visible items; NotFound alike for a
    missing, an invisible and another organization's template."""
    template = template_list(clinic=clinic).filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("Package template not found."))
    return template


def service_for_clinic(*, clinic: Clinic | None, service_id: int) -> Service:
    service = visible_services(clinic=clinic).filter(pk=service_id).first()
    if service is None:
        raise NotFound(_("Service not found."))
    return service


def service_choices(*, clinic: Clinic, keep: set[int] | None = None) -> QuerySet[Service]:
    """Services `clinic` may put in a template: the active ones it sees, plus
    those already chosen (`keep`), so that editing keeps a deactivated one."""
    condition = Q(is_active=True)
    if keep:
        condition |= Q(pk__in=keep)
    return visible_services(clinic=clinic).filter(condition).order_by("name", "pk")


def service_is_used(service: Service) -> bool:
    """Whether any template (of any clinic) refers to the service."""
    return (
        PackageTemplateItem.objects.filter(service=service).exists()
        or PackageTemplateServiceLimit.objects.filter(service=service).exists()
        or PackageTemplate.objects.filter(trigger_service=service).exists()
    )


def templates_needing_shared_service(service: Service) -> list[str]:
    """Names of templates that need `service` to stay shared: shared templates
    that use it, and other clinics' templates that use it."""
    outside = ~Q(clinic_id=service.clinic_id) | Q(is_shared=True)
    uses = (
        Q(items__service=service, items__clinic_id=F("clinic_id"))
        | Q(service_limits__service=service)
        | Q(trigger_service=service)
    )
    names = set(PackageTemplate.objects.filter(outside & uses).values_list("name", flat=True))
    # Another clinic's own items added to a shared template.
    names |= set(
        PackageTemplateItem.objects.filter(service=service)
        .exclude(clinic_id=service.clinic_id)
        .values_list("template__name", flat=True)
    )
    return sorted(names)


def budget_for_template(template: PackageTemplate) -> Budget:
    """The template's limits as a `Budget` for `packages.catalog.budget.budget_check`."""
    return Budget(
        max_appointments=template.max_appointments,
        max_amount=template.max_amount,
        services=tuple(
            ServiceLimit(
                service_id=limit.service_id,
                max_quantity=limit.max_quantity,
                max_amount=limit.max_amount,
                service_name=limit.service.name,
            )
            for limit in template.service_limits.all()
        ),
    )


def template_terms_snapshot(template: PackageTemplate, clinic: Clinic) -> dict[str, Any]:
    """Everything a patient package copies from a template when it is linked in
    `clinic`, as plain JSON (decimals as strings). Editing the template later
    changes none of it (X4).

    The items are those `clinic` sees (the template's and the clinic's own), so
    the number of sessions is the one this clinic sells. Raises NotFound when
    the clinic does not see the template, ValidationFailed for zero sessions.
    """
    template = template_for_clinic(clinic=clinic, template_id=template.pk)
    sessions = template.sessions
    prices = money.session_prices(template.price, sessions)
    budget = budget_for_template(template)
    return {
        "template": template.pk,
        "name": template.name,
        "clinic": template.clinic_id,
        "sessions": sessions,
        "price": str(template.price),
        "price_per_session": str(prices[0]),
        "last_session_price": str(prices[-1]),
        "items": [
            {
                "service": item.service_id,
                "service_name": item.service.name,
                "service_code": item.service.code,
                "quantity": item.quantity,
                "unit_price": str(item.service.price),
                "clinic": item.clinic_id,
            }
            for item in template.visible_items
        ],
        "limits": budget.as_dict(),
        "posting": template.posting,
        "renewal": template.renewal,
        "validity_days": template.validity_days,
        "commission_kind": template.commission_kind,
        "commission_value": str(template.commission_value),
        "trigger_service": template.trigger_service_id,
    }
