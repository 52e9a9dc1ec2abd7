"""The patient's own page, reports' part (X7): the session card, and the
address its QR code opens."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_GET

from packages.patient_packages.models import PatientPackage
from patients.portal.session import portal_view, public_clinic
from reports.views import session_card_pdf_response


@require_GET
@portal_view
def session_card(request: HttpRequest, token: str, package_id: int) -> HttpResponse:
    package = (
        PatientPackage.objects.filter(pk=package_id, patient=request.portal.patient, deleted_at__isnull=True)  # type: ignore[attr-defined]
        .select_related("patient", "clinic")
        .first()
    )
    if package is None:
        raise Http404
    return session_card_pdf_response(request, package)


@require_GET
@public_clinic
def card_entry(request: HttpRequest, token: str, package_id: int) -> HttpResponse:
    """The card's QR code: staff of the organization see the package's page;
    anyone else goes to the patient's page (signing in first if needed)."""
    user = request.user
    if user.is_authenticated and getattr(user, "organization_id", None) == request.portal_clinic.organization_id:  # type: ignore[attr-defined]
        package = PatientPackage.objects.filter(pk=package_id).first()
        if package is None:
            raise Http404
        return redirect("patient_packages:history", package.patient_id, package.pk)
    return redirect("portal:home", token=token)


portal_urlpatterns = [
    path("me/packages/<int:package_id>/session-card.pdf", session_card, name="session-card"),
    path("card/<int:package_id>/", card_entry, name="card"),
]
