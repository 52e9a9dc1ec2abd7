"""Who is signed in on the patient's page.

The page has its own sign-in, apart from staff's: the session holds the
clinic, the patients the code or link opened (one contact may reach several)
and the one being looked at. `portal_view` finds the clinic by its public
token (the one read without a tenant scope), opens that organization's scope
and the clinic's language, and gives the view `request.portal`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django_scopes import scopes_disabled

from clinic.models import Clinic
from clinic.tenancy import organization_scope
from patients.models import Patient

KEY = "portal"


@dataclass(frozen=True)
class Portal:
    clinic: Clinic
    patient: Patient
    patients: list[Patient]


def clinic_by_token(token: str) -> Clinic | None:
    if not token or len(token) > 32:
        return None
    with scopes_disabled():  # a public visitor has no organization until the token says which
        return Clinic.objects.select_related("organization").filter(portal_token=token, is_active=True).first()


def sign_in(request: HttpRequest, clinic: Clinic, patients: list[Patient]) -> None:
    request.session.cycle_key()  # a new session id at sign-in (no fixation)
    request.session[KEY] = {"clinic": clinic.pk, "organization": clinic.organization_id,
                            "patients": [p.pk for p in patients], "current": patients[0].pk}  # fmt: skip


def sign_out(request: HttpRequest) -> None:
    request.session.pop(KEY, None)
    request.session.cycle_key()


def choose(request: HttpRequest, patient_id: int) -> bool:
    state = request.session.get(KEY) or {}
    if patient_id not in state.get("patients", []):
        return False
    request.session[KEY] = {**state, "current": patient_id}
    return True


def public_clinic(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A public page of the clinic named by the token (no sign-in needed)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        clinic = clinic_by_token(token)
        if clinic is None:
            raise Http404
        with organization_scope(clinic.organization_id), translation.override(clinic.language):
            request.portal_clinic = clinic  # type: ignore[attr-defined]
            response = view(request, token, *args, **kwargs)
            response.headers.setdefault("Content-Language", clinic.language)
            response.headers["Cache-Control"] = "private, no-store"
            return response

    return wrapper


def portal_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of the signed-in patient; others go to the sign-in."""

    @public_clinic
    @functools.wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        clinic: Clinic = request.portal_clinic  # type: ignore[attr-defined]
        state = request.session.get(KEY) or {}
        if state.get("organization") != clinic.organization_id:
            return redirect("portal:start", token=token)
        patients = list(Patient.objects.filter(pk__in=state.get("patients", []), is_active=True).order_by("full_name"))
        current = next((p for p in patients if p.pk == state.get("current")), patients[0] if patients else None)
        if current is None:
            sign_out(request)
            return redirect("portal:start", token=token)
        request.portal = Portal(clinic, current, patients)  # type: ignore[attr-defined]
        return view(request, token, *args, **kwargs)

    return wrapper
