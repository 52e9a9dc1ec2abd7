"""Application errors of the catalog, with stable codes clients can rely on."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from clinic.errors import ApplicationError, Conflict, PermissionDenied


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


class PackageExhausted(ApplicationError):
    """Nothing left to book or debit (K10): the package needs an adjustment."""

    code = "package_exhausted"
    default_detail = _(
        "This package has no session available. Change the package's number of sessions if the patient bought more."
    )


class PackageInactive(ApplicationError):
    """An inactive or finished package accepts no booking and no debit (K5)."""

    code = "package_inactive"
    default_detail = _("This package is not active: it accepts no new bookings or debits.")


class AppointmentHasOtherPackage(Conflict):
    code = "appointment_has_other_package"
    default_detail = _("This appointment already holds a session of another package. Release it first.")


class PackageDebited(ApplicationError):
    code = "package_debited"
    default_detail = _("Sessions of this package were already debited: deactivate it instead of deleting it.")
