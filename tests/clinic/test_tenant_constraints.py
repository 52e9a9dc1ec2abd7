"""Ready to outgrow one database (docs/scaling.md): every unique constraint of
a tenant table holds within one organization, and every foreign key between
tenant tables stays inside one, so the schema can be distributed or sharded by
`organization_id` (Citus: a unique constraint must include the distribution
column; rows joined by a foreign key must live on the same node)."""

from __future__ import annotations

from django.db import models

from clinic import rls
from clinic.models import Organization, User

# The user is the one table shared by all tenants on purpose: a login names a
# username before any organization is known (docs/architecture.md, Tenancy);
# distributed, it is a reference table.
GLOBAL_BY_DESIGN = {User}


def _tenant_models() -> list[type[models.Model]]:
    return [model for model in rls.tenant_models() if model not in GLOBAL_BY_DESIGN]


def _is_tenant(model: type[models.Model]) -> bool:
    return any(field.name == "organization" and field.related_model is Organization for field in model._meta.fields)


def _within_organization(model: type[models.Model], names: list[str]) -> bool:
    """The columns name the organization, or a row of a tenant table (which
    belongs to exactly one organization)."""
    for name in names:
        field = model._meta.get_field(name)
        if name == "organization" or (field.is_relation and field.related_model and _is_tenant(field.related_model)):
            return True
    return False


def test_every_unique_constraint_holds_within_one_organization() -> None:
    crossing = []
    for model in _tenant_models():
        meta = model._meta
        for field in meta.fields:
            if field.unique and not field.primary_key and not _within_organization(model, [field.name]):
                crossing.append(f"{meta.label}.{field.name} (unique=True)")
        for constraint in meta.constraints:
            unique = isinstance(constraint, models.UniqueConstraint)
            if unique and (constraint.expressions or not _within_organization(model, list(constraint.fields))):
                crossing.append(f"{meta.label}: {constraint.name}")
        for together in meta.unique_together:
            if not _within_organization(model, list(together)):
                crossing.append(f"{meta.label}: unique_together {together}")
    assert crossing == []
    assert len(_tenant_models()) > 40  # the walk saw the tenant tables


def test_every_foreign_key_of_a_tenant_table_stays_among_tenant_tables() -> None:
    """A tenant row points only at tenant rows (co-located by organization),
    at the organization, or at a user; and no table outside the tenants points
    into one (it could not follow its rows to their node)."""
    leaving, entering = [], []
    tenant = set(_tenant_models())
    allowed_targets = tenant | {Organization, *GLOBAL_BY_DESIGN}
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.fields:
            if not ((field.is_relation and field.many_to_one) or field.one_to_one) or field.related_model is None:
                continue
            target = field.related_model
            if model in tenant and target not in allowed_targets:
                leaving.append(f"{model._meta.label}.{field.name} -> {target._meta.label}")
            if model not in tenant and target in tenant and model._meta.app_label not in {"admin"}:
                entering.append(f"{model._meta.label}.{field.name} -> {target._meta.label}")
    assert (leaving, entering) == ([], [])
