"""The patient's packages pages (K1, K4-K7, R2): the list, a package's
history, the link form with its live price per session, the manual change,
and the actions deactivate / reactivate, renew now and delete.

Every write goes through `packages.ledger`; its `ApplicationError` becomes a
form error (`add_to_form`) or a message. Patients and packages are looked up
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
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ApplicationError, add_to_form
from clinic.models import Clinic, User
from clinic.permissions import Perm, request_has_perm, require_perm
from packages import ledger, money, selectors
from packages.budget import BudgetCheck
from packages.history import history_rows
from packages.models import PackageStatus, PatientPackage, Renewal
from packages.patient_forms import (
    PackageChangeForm,
    PackageLinkForm,
    link_rows,
    linkable_templates,
    preview_prices,
    price_preview,
    session_dates_formset,
)
from patients.models import AccessChannel, Patient
from patients.services import access_log_record, clinic_today
from patients.views import get_patient_for_user
from scheduling import selectors as scheduling_selectors
from scheduling.recurrence import package_link_with_dates


def _current_clinic(request: HttpRequest) -> Clinic:
    clinic: Clinic | None = getattr(request, "clinic", None)
    if clinic is None:
        raise PermissionDenied
    return clinic


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def get_package_for_user(request: HttpRequest, patient: Patient, package_id: int) -> PatientPackage:
    """A live package of `patient` (already looked up in the user's organization);
    404 alike for a missing id, another organization's and another patient's."""
    package = selectors.patient_package_rows(patient=patient).filter(pk=package_id).first()
    if package is None:
        raise Http404
    return package


def _list_url(patient: Patient, package: PatientPackage | None = None) -> str:
    url = reverse("patients:packages", args=[patient.pk])
    return f"{url}#package-{package.pk}" if package else url


@dataclass(frozen=True)
class PackageRow:
    package: PatientPackage
    balance: dict[str, int]
    budget: BudgetCheck
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
    budgets = scheduling_selectors.budgets_used(packages, when=timezone.now())
    rows = [
        PackageRow(
            package=package,
            balance=selectors.package_balance_details(package),
            budget=budgets[package.pk],
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
    rows = history_rows(list(selectors.package_entries(package)), ZoneInfo(time_zone))
    access_log_record(request=request, patients=[patient], channel=AccessChannel.PAGE, what="package history")
    context = {
        "patient": patient,
        "package": package,
        "rows": rows,
        "time_zone": time_zone,
        "currency": package.clinic.currency,
        "currency_symbol": money.currency_symbol(package.clinic.currency),
    }
    return render(request, "packages/patient/history.html", context)


# Linking (K1) --------------------------------------------------------------------


def _link_form(request: HttpRequest, patient: Patient, data: Any = None) -> PackageLinkForm:
    clinic = _current_clinic(request)
    return PackageLinkForm(data, clinic=clinic, patient=patient, today=clinic_today(clinic))


@login_required
@require_http_methods(["GET", "POST"])
def package_link(request: HttpRequest, patient_id: int) -> HttpResponse:
    require_perm(request, Perm.LINK_PACKAGES)
    patient = get_patient_for_user(request, patient_id)
    clinic = _current_clinic(request)
    form = _link_form(request, patient, request.POST or None)
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
                        patient=patient, clinic=clinic, actor=_actor(request), rows=rows, **form.link_arguments()
                    )
                else:
                    package = ledger.package_link(
                        patient=patient, clinic=clinic, actor=_actor(request), **form.link_arguments()
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
                return redirect(_list_url(patient, package))
        preview = price_preview(request.POST, currency=clinic.currency)
    else:
        preview = preview_prices(None, None, currency=clinic.currency)
    context = {"patient": patient, "form": form, "preview": preview, "dates": dates}
    return render(request, "packages/patient/link.html", context)


@login_required
@require_GET
def package_link_terms(request: HttpRequest, patient_id: int) -> HttpResponse:
    """htmx: the sessions and total fields prefilled from the chosen template
    (or empty for a direct package), with their price per session."""
    require_perm(request, Perm.LINK_PACKAGES)
    patient = get_patient_for_user(request, patient_id)
    clinic = _current_clinic(request)
    form = _link_form(request, patient)
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
    preview = price_preview(request.GET, currency=_current_clinic(request).currency)
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
            return redirect(_list_url(patient, package))
        try:
            ledger.package_change(package=package, actor=_actor(request), **changes)
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Package no. %(number)s changed.") % {"number": package.number})
            return redirect(_list_url(patient, package))
    context = {"patient": patient, "package": package, "form": form, "currency": package.clinic.currency}
    return render(request, "packages/patient/edit.html", context)


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
        ledger.package_change(package=package, actor=_actor(request), status=status)
    except ApplicationError as error:
        messages.error(request, " ".join(m for ms in error.fields.values() for m in ms) or error.detail)
    else:
        text = (
            _("Package no. %(number)s reactivated.")
            if status == PackageStatus.ACTIVE
            else _("Package no. %(number)s deactivated: it accepts no new bookings or debits.")
        )
        messages.success(request, text % {"number": package.number})
    return redirect(_list_url(patient, package))


@login_required
@require_POST
def package_renew(request: HttpRequest, patient_id: int, package_id: int) -> HttpResponse:
    """Renew now (K6): start the next monthly cycle."""
    require_perm(request, Perm.CHANGE_PACKAGE_VALUES)
    patient = get_patient_for_user(request, patient_id)
    package = get_package_for_user(request, patient, package_id)
    try:
        entry = ledger.package_renew(package=package, actor=_actor(request))
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
    return redirect(_list_url(patient, package))


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
            ledger.package_delete(package=package, actor=_actor(request))
        except ApplicationError as error:
            # PackageDebited's message says to deactivate instead; the row offers it.
            messages.error(request, error.detail)
            return redirect(_list_url(patient, package))
        messages.success(request, _("Package no. %(number)s deleted.") % {"number": package.number})
        return redirect(_list_url(patient))
    context = {
        "patient": patient,
        "package": package,
        "was_debited": package.was_debited,  # type: ignore[attr-defined]
        "can_change": request_has_perm(request, Perm.CHANGE_PACKAGE_VALUES),
        "currency": package.clinic.currency,
    }
    return render(request, "packages/patient/delete.html", context)
