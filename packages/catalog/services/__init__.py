"""Writes on the catalog: services, package templates, their items and limits,
and the organization's catalog settings. Pages, the API, the admin and the demo
all go through these functions.

`clinic` is always the clinic the caller works in. Only the owning clinic
changes a service or template (T3); another clinic that sees a shared one gets
`SharedReadOnly` (403, code "shared_read_only"), and may only add its own
items to a shared template (`package_template_set_own_items`). Whether the
caller's role may manage the catalog at all (T4) is checked by the interfaces,
with `Perm.MANAGE_CATALOG`.
"""

from packages.catalog.services.catalog_settings import catalog_settings_update
from packages.catalog.services.service_writes import (
    service_check,
    service_create,
    service_delete,
    service_set_active,
    service_update,
)
from packages.catalog.services.template_writes import (
    LimitsInput,
    ServiceLimitInput,
    TemplateInput,
    TemplateItemInput,
    package_template_check,
    package_template_create,
    package_template_delete,
    package_template_set_active,
    package_template_set_own_items,
    package_template_update,
    template_input_from,
)

__all__ = [
    "LimitsInput",
    "ServiceLimitInput",
    "TemplateInput",
    "TemplateItemInput",
    "catalog_settings_update",
    "package_template_check",
    "package_template_create",
    "package_template_delete",
    "package_template_set_active",
    "package_template_set_own_items",
    "package_template_update",
    "service_check",
    "service_create",
    "service_delete",
    "service_set_active",
    "service_update",
    "template_input_from",
]
