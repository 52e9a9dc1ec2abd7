"""The patient's page (X7): signing in with a code or a link, and the page
itself, whose cards the apps above register (`patients.file_panels.portal`)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from clinic.errors import ApplicationError, add_to_form
from patients import file_panels
from patients.models import Patient
from patients.portal import services, session
from patients.portal.session import portal_view, public_clinic

CONTACT = "portal_contact"


class ContactForm(forms.Form):
    contact = forms.CharField(
        label=_("Mobile or e-mail"), max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "tel email", "autofocus": True}),
    )  # fmt: skip


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True,
                                      "pattern": "[0-9]*"}),
    )  # fmt: skip


def _limited(request: HttpRequest) -> HttpResponse:
    return render(request, "patients/public/rate_limited.html", {"clinic": request.portal_clinic}, status=429)  # type: ignore[attr-defined]


@ratelimit(key="ip", rate="10/h", method="POST", block=False)
@ratelimit(key="post:contact", rate="5/h", method="POST", block=False)
@require_http_methods(["GET", "POST"])
@public_clinic
def start(request: HttpRequest, token: str) -> HttpResponse:
    """Ask for a code. The answer is the same whether or not the contact is on file."""
    if getattr(request, "limited", False):
        return _limited(request)
    clinic = request.portal_clinic  # type: ignore[attr-defined]
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.code_request(clinic=clinic, contact=form.cleaned_data["contact"])
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            request.session[CONTACT] = form.cleaned_data["contact"]
            return redirect("portal:code", token=token)
    return render(request, "portal/start.html", {"clinic": clinic, "form": form})


@ratelimit(key="ip", rate="20/h", method="POST", block=False)
@require_http_methods(["GET", "POST"])
@public_clinic
def code(request: HttpRequest, token: str) -> HttpResponse:
    if getattr(request, "limited", False):
        return _limited(request)
    clinic = request.portal_clinic  # type: ignore[attr-defined]
    contact = request.session.get(CONTACT)
    if not contact:
        return redirect("portal:start", token=token)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patients = services.code_verify(clinic=clinic, contact=contact, code=form.cleaned_data["code"])
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            session.sign_in(request, clinic, patients)
            return redirect("portal:home", token=token)
    return render(request, "portal/code.html", {"clinic": clinic, "form": form, "contact": contact})


@require_http_methods(["GET"])
@public_clinic
def enter(request: HttpRequest, token: str, link: str) -> HttpResponse:
    """A signed link from a message (or the session card's QR code)."""
    clinic = request.portal_clinic  # type: ignore[attr-defined]
    patient_id = services.patient_from_link(link)
    patient = Patient.objects.filter(pk=patient_id, is_active=True).first() if patient_id else None
    if patient is None:
        return render(request, "portal/link_expired.html", {"clinic": clinic}, status=410)
    session.sign_in(request, clinic, [patient])
    return redirect("portal:home", token=token)


@require_http_methods(["GET"])
@portal_view
def home(request: HttpRequest, token: str) -> HttpResponse:
    portal = request.portal  # type: ignore[attr-defined]
    chosen = request.GET.get("patient", "")
    if chosen.isdigit() and session.choose(request, int(chosen)):
        return redirect("portal:home", token=token)
    context = {"clinic": portal.clinic, "patient": portal.patient, "patients": portal.patients, "token": token,
               "panels": file_panels.portal.panels_for(request, portal.patient)}  # fmt: skip
    return render(request, "portal/home.html", context)


@require_POST
@public_clinic
def sign_out(request: HttpRequest, token: str) -> HttpResponse:
    session.sign_out(request)
    return redirect("portal:start", token=token)
