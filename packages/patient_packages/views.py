"""The patient's packages pages (K1, K4-K7, R2): the list, a package's
history, the link form's live terms and price per session, the manual change,
and the actions deactivate / reactivate and renew now. (Linking, which may
book the picked dates, and deleting, which releases bookings, are
scheduling's pages: `scheduling.package_views`.)

Every write goes through `packages.patient_packages.ledger`; its
`ApplicationError` becomes a form error (`add_to_form`) or a message. Patients and packages are looked up
through the tenant scope and, for packages, through the patient too, so a
missing id, another organization's id and another patient's package all
answer 404 alike. Permissions are checked first, so a 403 never tells whether
an id exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import money
from clinic.errors import ApplicationError, add_to_form
from clinic.models import Clinic, User
from clinic.permissions import Perm, request_has_perm, require_perm
from packages.catalog.models import Renewal
from packages.patient_packages import budgets, ledger, selectors
from packages.patient_packages.forms import (
    PackageChangeForm,
    PackageLinkForm,
    linkable_templates,
    preview_prices,
    price_preview,
)
from packages.patient_packages.history import history_rows
from packages.patient_packages.models import PackageStatus, PatientPackage
from patients.models import AccessChannel, Patient
from patients.services import access_log_record, clinic_today
from patients.views import get_patient_for_user


def current_clinic(request: HttpRequest) -> Clinic:
    clinic: Clinic | None = getattr(request, "clinic", None)
    if clinic is None:
        raise PermissionDenied
    return clinic


def actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def get_package_for_user(request: HttpRequest, patient: Patient, package_id: int) -> PatientPackage:
    """A live package of `patient` (already looked up in the user's organization);
    404 alike for a missing id, another organization's and another patient's."""
    package = selectors.patient_package_rows(patient=patient).filter(pk=package_id).first()
    if package is None:
        raise Http404
    return package


def list_url(patient: Patient, package: PatientPackage | None = None) -> str:
    url = reverse("patient_packages:list", args=[patient.pk])
    return f"{url}#package-{package.pk}" if package else url


@dataclass(frozen=True)
class PackageRow:
    package: PatientPackage
    balance: budgets.Balance
    can_delete: bool
    can_renew: bool


@login_required
@require_GET
def package_list(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Seed 000's and 001's list: number, link date, name, values, "3 of 5",
    status, renewal, and the actions the user's role allows."""
    patient = get_patient_for_user(request, patient_id)
    can_change = request_has_perm(request, Perm.CHANGE_PACKAGE_VALUES)
    can_delete = request_has_perm(request, Perm.DELETE_LEDGER_RECORDS)
    packages = list(selectors.patient_package_rows(patient=patient))
    balances = budgets.balances(packages)
    rows = [
        PackageRow(
            package=package,
            balance=balances[package.pk],
            # A package with a debit can only be deactivated (K4).
            can_delete=can_delete and not package.was_debited,  # type: ignore[attr-defined]
            can_renew=can_change and package.renewal == Renewal.MONTHLY and package.status != PackageStatus.INACTIVE,
        )
        for package in packages
    ]
    access_log_record(request=request, patients=[patient], channel=AccessChannel.PAGE, what="packages")
    context = {
        "patient": patient,
        "rows": rows,
        "can_link": request_has_perm(request, Perm.LINK_PACKAGES),
        "can_export": request_has_perm(request, Perm.EXPORT_REPORTS),
        "can_change": can_change,
    }
    return render(request, "packages/patient/list.html", context)


@login_required
@require_GET
def package_history(request: HttpRequest, patient_id: int, package_id: int) -> HttpResponse:
    """Seed 001's history table: type, date, status, note, session balance,
    money balance, average value (R2), in the package's clinic's time zone."""
    patient = get_patient_for_user(request, patient_id)
    package = get_package_for_user(request, patient, package_id)
    time_zone = package.clinic.time_zone
    rows = history_rows(list(selectors.package_entries(package)), ZoneInfo(time_zone), package.clinic.currency)
    access_log_record(request=request, patients=[patient], channel=AccessChannel.PAGE, what="package history")
    context = {
        "patient": patient,
        "package": package,
        "balance": budgets.balances([package])[package.pk],
        "rows": rows,
        "time_zone": time_zone,
        "currency": package.clinic.currency,
        "currency_symbol": money.currency_symbol(package.clinic.currency),
    }
    return render(request, "packages/patient/history.html", context)


# Linking (K1) --------------------------------------------------------------------


def link_form(request: HttpRequest, patient: Patient, data: Any = None) -> PackageLinkForm:
    clinic = current_clinic(request)
    return PackageLinkForm(data, clinic=clinic, patient=patient, today=clinic_today(clinic))


@login_required
@require_GET
def package_link_terms(request: HttpRequest, patient_id: int) -> HttpResponse:
    """htmx: the sessions and total fields prefilled from the chosen template
    (or empty for a direct package), with their price per session."""
    require_perm(request, Perm.LINK_PACKAGES)
    patient = get_patient_for_user(request, patient_id)
    clinic = current_clinic(request)
    form = link_form(request, patient)
    template = None
    template_id = request.GET.get("template", "")
    if template_id:
        template = linkable_templates(clinic).filter(pk=template_id).first() if template_id.isdigit() else None
        if template is None:
            raise Http404
    form.prefill_from(template)
    preview = preview_prices(
        template.sessions if template else None, template.price if template else None, currency=clinic.currency
    )
    return render(request, "packages/patient/_terms.html", {"patient": patient, "form": form, "preview": preview})


@login_required
@require_GET
def package_link_preview(request: HttpRequest, patient_id: int) -> HttpResponse:
    """htmx: the price per session for the sessions and total typed so far."""
    require_perm(request, Perm.LINK_PACKAGES)
    get_patient_for_user(request, patient_id)
    preview = price_preview(request.GET, currency=current_clinic(request).currency)
    return render(request, "packages/patient/_price_preview.html", {"preview": preview})


# Changing (K5, K6, K7) and deleting (K4) -------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def package_edit(request: HttpRequest, patient_id: int, package_id: int) -> HttpResponse:
    require_perm(request, Perm.CHANGE_PACKAGE_VALUES)
    patient = get_patient_for_user(request, patient_id)
    package = get_package_for_user(request, patient, package_id)
    form = PackageChangeForm(request.POST or None, package=package)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect(list_url(patient, package))
        sessions_before = package.sessions_total
        try:
            # The ledger decides whether the choice of limits applies (a raise).
            changed = ledger.package_change(package=package, actor=actor(request), limits=form.limits_choice(),
                                            **changes)  # fmt: skip
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Package no. %(number)s changed.") % {"number": package.number})
            if changed.sessions_total > sessions_before and form.limit_labels:
                messages.info(request, _limits_message(changed, before=form.limit_labels))
            return redirect(list_url(patient, package))
    context = {
        "patient": patient,
        "package": package,
        "balance": budgets.balances([package])[package.pk],
        "form": form,
        "currency": package.clinic.currency,
    }
    return render(request, "packages/patient/edit.html", context)


def _limits_message(package: PatientPackage, *, before: list[str]) -> str:
    """Which limits grew with a raise of the sessions and which stayed (named
    as the budget bar names them), and what that leaves free to book."""
    balance = budgets.balances([package])[package.pk]
    after = [limit.label for limit in balance.budget.limits]
    grew, stayed = [label for label in after if label not in before], [label for label in after if label in before]
    parts = []
    if grew:
        parts.append(_("The budget limits grew with the sessions: %(limits)s.") % {"limits": "; ".join(grew)})
    if stayed:
        parts.append(_("The budget limits stay as they were: %(limits)s.") % {"limits": "; ".join(stayed)})
    free = ngettext("%(count)s session is free to book.", "%(count)s sessions are free to book.", balance.free)
    return " ".join([*parts, free % {"count": balance.free}])


@login_required
@require_POST
def package_set_status(request: HttpRequest, patient_id: int, package_id: int) -> HttpResponse:
    """Deactivate or reactivate (K5): a manual change of the status."""
    require_perm(request, Perm.CHANGE_PACKAGE_VALUES)
    patient = get_patient_for_user(request, patient_id)
    package = get_package_for_user(request, patient, package_id)
    status = request.POST.get("status")
    if status not in (PackageStatus.ACTIVE, PackageStatus.INACTIVE):
        return HttpResponseBadRequest()
    try:
        ledger.package_change(package=package, actor=actor(request), status=status)
    except ApplicationError as error:
        messages.error(request, error.summary)
    else:
        text = (
            _("Package no. %(number)s reactivated.")
            if status == PackageStatus.ACTIVE
            else _("Package no. %(number)s deactivated: it accepts no new bookings or debits.")
        )
        messages.success(request, text % {"number": package.number})
    return redirect(list_url(patient, package))


@login_required
@require_POST
def package_renew(request: HttpRequest, patient_id: int, package_id: int) -> HttpResponse:
    """Renew now (K6): start the next monthly cycle."""
    require_perm(request, Perm.CHANGE_PACKAGE_VALUES)
    patient = get_patient_for_user(request, patient_id)
    package = get_package_for_user(request, patient, package_id)
    try:
        entry = ledger.package_renew(package=package, actor=actor(request))
    except ApplicationError as error:
        messages.error(request, error.detail)
    else:
        if entry is None:
            messages.info(request, _("This package is already renewed for that month."))
        else:
            assert entry.period is not None
            month = formats.date_format(entry.period, "YEAR_MONTH_FORMAT")
            messages.success(
                request,
                _("Package no. %(number)s renewed for %(month)s.") % {"number": package.number, "month": month},
            )
    return redirect(list_url(patient, package))
