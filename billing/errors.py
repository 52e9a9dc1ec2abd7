"""Billing's refusals, with stable codes clients can rely on."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from clinic.errors import ApplicationError, Conflict


class PriceMismatch(Conflict):
    """K11: paying from a package sessions priced differently from its
    average needs a confirmation (`confirm_price`)."""

    code = "price_mismatch"
    default_detail = _(
        "The price of these sessions differs from the package's value per session. "
        "Confirm to set the sessions' value to the package's."
    )


class NothingToRefund(ApplicationError):
    code = "nothing_to_refund"
    default_detail = _("Nothing of this payment is left to refund.")


class PackageSaleUsed(ApplicationError):
    code = "package_sale_used"
    default_detail = _("Only what was not used of a package can be refunded.")
