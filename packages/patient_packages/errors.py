"""Application errors of patient packages and their ledger, with stable codes clients can rely on."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from clinic.errors import ApplicationError, Conflict


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
