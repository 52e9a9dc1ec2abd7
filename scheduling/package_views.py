"""The patient's package pages that book or release sessions: linking a
package with the dates picked for its sessions (K1, K2), and deleting a
package, which releases its bookings (K4). The rest of the package pages are
`packages.patient_packages.views`, in the same URL namespace."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinic.errors import ApplicationError, add_to_form
from clinic.permissions import Perm, request_has_perm, require_perm
from packages.patient_packages import budgets, ledger
from packages.patient_packages.forms import preview_prices, price_preview
from packages.patient_packages.views import actor, current_clinic, get_package_for_user, link_form, list_url
from patients.views import get_patient_for_user
from scheduling import services
from scheduling.package_forms import link_rows, session_dates_formset
from scheduling.recurrence import package_link_with_dates


@login_required
@require_http_methods(["GET", "POST"])
def package_link(request: HttpRequest, patient_id: int) -> HttpResponse:
    require_perm(request, Perm.LINK_PACKAGES)
    patient = get_patient_for_user(request, patient_id)
    clinic = current_clinic(request)
    form = link_form(request, patient, request.POST or None)
    # The dates section is optional: API-like posts without it link the package only.
    picked = request.POST if "dates-TOTAL_FORMS" in request.POST else None
    dates = session_dates_formset(picked, clinic=clinic)
    if request.method == "POST":
        if form.is_valid() and (picked is None or dates.is_valid()):
            rows = link_rows(dates, clinic) if picked is not None else []
            try:
                if rows:
                    # K2: the package and all its picked dates, all or nothing.
                    package, _bookings = package_link_with_dates(
                        patient=patient, clinic=clinic, actor=actor(request), rows=rows, **form.link_arguments()
                    )
                else:
                    package = ledger.package_link(
                        patient=patient, clinic=clinic, actor=actor(request), **form.link_arguments()
                    )
            except ApplicationError as error:
                row_errors = {k: v for k, v in error.fields.items() if k.startswith("rows.")}
                for key, messages_ in row_errors.items():
                    index = int(key.split(".")[1])
                    for message in messages_:
                        dates.forms[index].add_error(None, message)
                if row_errors:
                    form.add_error(None, error.detail)
                else:
                    add_to_form(form, error)
            else:
                messages.success(
                    request,
                    _("Package “%(name)s” (no. %(number)s) linked to %(patient)s.")
                    % {"name": package.name, "number": package.number, "patient": patient.full_name},
                )
                return redirect(list_url(patient, package))
        preview = price_preview(request.POST, currency=clinic.currency)
    else:
        preview = preview_prices(None, None, currency=clinic.currency)
    context = {"patient": patient, "form": form, "preview": preview, "dates": dates}
    return render(request, "packages/patient/link.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def package_delete(request: HttpRequest, patient_id: int, package_id: int) -> HttpResponse:
    """Ask, then delete a package none of whose sessions was debited (K4); a
    package with debits is refused, with the suggestion to deactivate it."""
    require_perm(request, Perm.DELETE_LEDGER_RECORDS)
    patient = get_patient_for_user(request, patient_id)
    package = get_package_for_user(request, patient, package_id)
    if request.method == "POST":
        try:
            services.patient_package_delete(package=package, actor=actor(request))
        except ApplicationError as error:
            # PackageDebited's message says to deactivate instead; the row offers it.
            messages.error(request, error.detail)
            return redirect(list_url(patient, package))
        messages.success(request, _("Package no. %(number)s deleted.") % {"number": package.number})
        return redirect(list_url(patient))
    context = {
        "patient": patient,
        "package": package,
        "balance": budgets.balances([package])[package.pk],
        "was_debited": package.was_debited,  # type: ignore[attr-defined]
        "can_change": request_has_perm(request, Perm.CHANGE_PACKAGE_VALUES),
        "currency": package.clinic.currency,
    }
    return render(request, "packages/patient/delete.html", context)
