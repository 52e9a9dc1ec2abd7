"""Application errors of the catalog, with stable codes clients can rely on."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from clinic.errors import ApplicationError, PermissionDenied


class SharedReadOnly(PermissionDenied):
    """Another clinic owns this shared service or template (T3)."""

    code = "shared_read_only"
    default_detail = _("This item is shared by another clinic: only that clinic can change it.")


class ServiceInUse(ApplicationError):
    code = "service_in_use"
    default_detail = _("This service is used by package templates: deactivate it instead.")


class BudgetExceeded(ApplicationError):
    """Booking would go past a package's budget limit (S3)."""

    code = "budget_exceeded"
    default_detail = _("The package's budget would be exceeded.")
