"""The patient's own page, billing's part (X7): their receipts."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from billing.models import Payment
from patients import file_panels
from patients.file_panels import FilePanel
from patients.models import Patient
from patients.portal.session import portal_view

RECEIPTS = 10


def context(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    payments = list(
        Payment.objects.filter(patient=patient).select_related("clinic").order_by("-received_at", "-pk")[:RECEIPTS]
    )
    return {"payments": payments} if payments else None


@require_GET
@portal_view
def receipt(request: HttpRequest, token: str, payment_id: int) -> HttpResponse:
    from billing.exporters import receipt_pdf

    payment = (
        Payment.objects.filter(pk=payment_id, patient=request.portal.patient)  # type: ignore[attr-defined]
        .select_related("clinic", "patient", "patient_package", "received_by")
        .first()
    )
    if payment is None:
        raise Http404
    response = HttpResponse(receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{payment.number}.pdf"'
    return response


portal_urlpatterns = [path("me/receipts/<int:payment_id>.pdf", receipt, name="receipt")]


def register() -> None:
    file_panels.portal.register(FilePanel("receipts", order=30, template="portal/_receipts.html", context=context))
