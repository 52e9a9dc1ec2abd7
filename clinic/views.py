"""The web shell: dashboard, clinic switcher and organization settings."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from clinic import home_panels, services
from clinic.errors import ApplicationError, add_to_form
from clinic.forms import ClinicForm
from clinic.models import Clinic, Membership
from clinic.permissions import Perm, request_has_perm, require_perm
from clinic.tenancy import SESSION_CLINIC_KEY


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def get_clinic_for_user(request: HttpRequest, clinic_id: int) -> Clinic:
    """The organization's clinic; 404 alike for missing and for another tenant's."""
    try:
        return Clinic.objects.get(pk=clinic_id)
    except Clinic.DoesNotExist:
        raise Http404 from None


# The home page's shortcuts: (permission, url name, label, Bootstrap icon).
HOME_ACTIONS = [
    (Perm.BOOK_APPOINTMENTS, "scheduling:index", gettext_lazy("Book a session"), "calendar-plus"),
    (Perm.MANAGE_PATIENTS, "patients:create", gettext_lazy("New patient"), "person-plus"),
    (Perm.TAKE_PAYMENTS, "billing:index", gettext_lazy("Take payment"), "cash-coin"),
]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The home page: the cards the apps register for the reader's role
    (`clinic.home_panels`), read and shown in the clinic's time zone."""
    clinic: Clinic | None = getattr(request, "clinic", None)
    membership: Membership | None = getattr(request, "membership", None)
    if clinic is None or membership is None:
        return render(request, "clinic/dashboard.html", {"panels": {}, "actions": []})
    with timezone.override(ZoneInfo(clinic.time_zone)):
        home = home_panels.Home(request, clinic, membership)
        rendered = home_panels.panels_for(home)
        home_panels.patients_shown(home_panels.PatientsShown(request, home_panels.shown_patients(rendered)))
        areas = {area: [panel for panel in rendered if panel.area == area] for area in ("top", "main", "side")}
        actions = [
            {"url": reverse(url_name), "label": label, "icon": icon}
            for permission, url_name, label, icon in HOME_ACTIONS
            if request_has_perm(request, permission)
        ]
        context = {"panels": areas, "actions": actions, "today": home.today}
        return render(request, "clinic/dashboard.html", context)


@login_required
@require_POST
def clinic_switch(request: HttpRequest) -> HttpResponseRedirect:
    wanted = request.POST.get("clinic")
    membership = next((m for m in request.memberships if str(m.clinic_id) == wanted), None)  # type: ignore[attr-defined]
    if membership is None:
        raise Http404
    request.session[SESSION_CLINIC_KEY] = membership.clinic_id
    messages.success(request, _("You are now working in %(clinic)s.") % {"clinic": membership.clinic.name})
    return redirect(_safe_next(request, reverse("dashboard")))


@login_required
def settings_index(request: HttpRequest) -> HttpResponse:
    clinics = Clinic.objects.order_by("-is_central", "name")
    # The team has its own page (clinic.team_views), for those who manage it.
    return render(request, "clinic/settings.html", {"clinics": clinics})


@login_required
@require_http_methods(["GET", "POST"])
def clinic_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.MANAGE_ORGANIZATION)
    form = ClinicForm(request.POST or None, organization=request.organization)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        try:
            clinic = services.clinic_create(
                organization=request.organization,  # type: ignore[attr-defined]
                **{k: v for k, v in form.cleaned_data.items() if k != "is_active"},
            )
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Clinic “%(name)s” created.") % {"name": clinic.name})
            return redirect("settings")
    return render(request, "clinic/clinic_form.html", {"form": form, "clinic": None})


@login_required
@require_http_methods(["GET", "POST"])
def clinic_edit(request: HttpRequest, clinic_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_ORGANIZATION)
    clinic = get_clinic_for_user(request, clinic_id)
    form = ClinicForm.for_clinic(clinic, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.clinic_update(clinic=clinic, **form.cleaned_data)
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Clinic “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("settings")
    portal_url = f"{settings.PUBLIC_URL}/c/{clinic.portal_token}/"
    return render(request, "clinic/clinic_form.html", {"form": form, "clinic": clinic, "portal_url": portal_url})
