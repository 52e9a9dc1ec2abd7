"""The booking modal's "New patient": a small form inside the patient picker
that registers the patient through the patients app's one create entry point
(`patients.services.patient_create`, the rules of the patient file) and
chooses them for the booking.

Every error shows at once: the form runs the patient file's rules on what it
could parse (`QuickPatientForm.service_check`), so a date that is not one
does not leave the phone and the e-mail for a second round.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django_htmx.http import trigger_client_event

from clinic.errors import ApplicationError
from clinic.models import Clinic, Professional
from clinic.permissions import Perm, require_perm
from clinic.service_forms import add_service_errors
from patients import services as patients
from scheduling.forms import QuickPatientForm

TEMPLATE = "scheduling/_patient_new.html"


def _clinic(request: HttpRequest) -> Clinic:
    clinic: Clinic | None = getattr(request, "clinic", None)
    if clinic is None:
        raise PermissionDenied
    return clinic


def _default_professional(request: HttpRequest, form: QuickPatientForm) -> Professional | None:
    """Who the new patient is with: the professional chosen in the booking
    (`professional`), else the clinic's only one, else the user's own
    profile. Another clinic's or organization's id is a 404, as everywhere."""
    professionals = list(form.fields["professional"].queryset)  # type: ignore[attr-defined]
    wanted = request.GET.get("professional", "")
    if wanted:
        chosen = next((p for p in professionals if str(p.pk) == wanted), None)
        if chosen is None:
            raise Http404
        return chosen
    if len(professionals) == 1:
        return professionals[0]
    return next((p for p in professionals if p.user_id == request.user.pk), None)


@login_required
@require_http_methods(["GET", "POST"])
def patient_quick_create(request: HttpRequest) -> HttpResponse:
    """htmx: GET the small form (the name typed in the search, `q`, filled
    in); POST registers the patient and answers `patientCreated` ({id,
    name}), which the picker turns into the booking's patient."""
    require_perm(request, Perm.BOOK_APPOINTMENTS)
    require_perm(request, Perm.MANAGE_PATIENTS)
    clinic = _clinic(request)
    if request.method == "GET":
        form = QuickPatientForm(clinic=clinic)
        form.initial = {
            "full_name": request.GET.get("q", "").strip(),
            "professional": _default_professional(request, form),
        }
        return render(request, TEMPLATE, {"form": form})
    form = QuickPatientForm(request.POST, clinic=clinic)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form})
    data = form.cleaned_data
    try:
        patient = patients.patient_create(
            clinic=clinic, fields=form.patient_fields(data), professionals=[data["professional"]]
        )
    except ApplicationError as error:
        # What only the write can tell (a document registered meanwhile).
        add_service_errors(form, error)
        return render(request, TEMPLATE, {"form": form})
    context: dict[str, Any] = {"created": patient}
    response = render(request, TEMPLATE, context)
    return trigger_client_event(response, "patientCreated", {"id": patient.pk, "name": patient.full_name})
