"""The patient's page as JSON, for an app or a clinic's own website
(`/c/<token>/api/…`). The same sign-in as the page (a code, then the
session cookie; POSTs carry the CSRF token as `X-CSRFToken`), the same
checks and the same entry points; errors are `{"code", "detail", "fields"}`.

- `POST api/code/` `{contact}` → 202, always (no enumeration)
- `POST api/code/verify/` `{contact, code}` → 200 `{patients}`, signed in
- `GET api/me/` → the patient, their packages and sessions
- `POST api/sessions/<id>/cancel/` → 200, or 409 outside the window
- `GET api/offer/` → what may be booked online
- `GET api/slots/<service>/?day=` → free times per professional (a week)
- `POST api/book/<service>/` `{professional, start}` → 201, or 409 `slot_taken`
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from clinic.errors import ApplicationError, ValidationFailed
from packages.patient_packages import budgets
from packages.patient_packages.models import PackageStatus, PatientPackage
from patients.portal import services as portal_services
from patients.portal import session
from patients.portal.session import portal_view, public_clinic
from scheduling import online, portal, services
from scheduling.models import Appointment


def _error(error: ApplicationError) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status)


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationFailed(fields={"body": ["Send a JSON object."]}) from None
    if not isinstance(data, dict):
        raise ValidationFailed(fields={"body": ["Send a JSON object."]})
    return data


@ratelimit(key="ip", rate="10/h", method="POST", block=False)
@require_POST
@public_clinic
def code_request(request: HttpRequest, token: str) -> JsonResponse:
    if getattr(request, "limited", False):
        return JsonResponse({"code": "rate_limited", "detail": "Too many attempts.", "fields": {}}, status=429)
    try:
        portal_services.code_request(clinic=request.portal_clinic, contact=str(_body(request).get("contact", "")))  # type: ignore[attr-defined]
    except ApplicationError as error:
        return _error(error)
    return JsonResponse({"detail": "If the contact is on file, a code is on its way."}, status=202)


@ratelimit(key="ip", rate="20/h", method="POST", block=False)
@require_POST
@public_clinic
def code_verify(request: HttpRequest, token: str) -> JsonResponse:
    if getattr(request, "limited", False):
        return JsonResponse({"code": "rate_limited", "detail": "Too many attempts.", "fields": {}}, status=429)
    clinic = request.portal_clinic  # type: ignore[attr-defined]
    try:
        data = _body(request)
        patients = portal_services.code_verify(clinic=clinic, contact=str(data.get("contact", "")),
                                               code=str(data.get("code", "")))  # fmt: skip
    except ApplicationError as error:
        return _error(error)
    session.sign_in(request, clinic, patients)
    return JsonResponse({"patients": [{"id": p.pk, "name": p.full_name} for p in patients]})


@require_GET
@portal_view
def me(request: HttpRequest, token: str) -> JsonResponse:
    patient = request.portal.patient  # type: ignore[attr-defined]
    packages = list(PatientPackage.objects.filter(patient=patient, status=PackageStatus.ACTIVE,
                                                  deleted_at__isnull=True).order_by("created_at", "pk"))  # fmt: skip
    balances = budgets.balances(packages)
    panel = portal.context(request, patient)

    def session_row(appointment: Appointment, cancellable: bool | None = None) -> dict[str, Any]:
        place = panel["positions"].get(appointment.pk)
        row = {"id": appointment.pk, "start": appointment.start.isoformat(), "status": appointment.status,
               "professional": appointment.professional.name if appointment.professional else None,
               "session": {"n": place[0], "of": place[1]} if place else None}  # fmt: skip
        if cancellable is not None:
            row["can_cancel"] = cancellable
        return row

    return JsonResponse({
        "patient": {"id": patient.pk, "name": patient.full_name},
        "packages": [{"id": p.pk, "name": p.name, "sessions_total": balances[p.pk].total,
                      "sessions_used": balances[p.pk].used, "sessions_booked": balances[p.pk].booked,
                      "sessions_free_to_book": balances[p.pk].free} for p in packages],
        "upcoming": [session_row(a, cancellable) for a, cancellable in panel["upcoming"]],
        "past": [session_row(a) for a in panel["past"]],
        "cancellation_hours": panel["cancellation_hours"],
    })  # fmt: skip


@require_POST
@portal_view
def cancel(request: HttpRequest, token: str, appointment_id: int) -> JsonResponse:
    patient = request.portal.patient  # type: ignore[attr-defined]
    appointment = Appointment.objects.select_related("clinic").filter(pk=appointment_id, patient=patient).first()
    if appointment is None:
        return JsonResponse({"code": "not_found", "detail": "Not found.", "fields": {}}, status=404)
    if portal.cancel_refusal(appointment, timezone.now()):
        return JsonResponse({"code": "outside_window", "detail": "Call the clinic to cancel this session.",
                             "fields": {}}, status=409)  # fmt: skip
    try:
        services.appointment_set_status(appointment=appointment, status="cancelled", actor=None)
    except ApplicationError as error:
        return _error(error)
    return JsonResponse({"id": appointment.pk, "status": "cancelled"})


def _offer(request: HttpRequest, service_id: int | None = None) -> list[online.Offer]:
    portal_state = request.portal  # type: ignore[attr-defined]
    if not portal_state.clinic.online_booking:
        raise Http404
    offers = online.offer(portal_state.patient, portal_state.clinic)
    return offers if service_id is None else [o for o in offers if o.service.pk == service_id]


@require_GET
@portal_view
def offer(request: HttpRequest, token: str) -> JsonResponse:
    return JsonResponse({"offer": [
        {"service": o.service.pk, "name": o.service.name, "minutes": o.service.duration_minutes,
         "package": o.package.pk if o.package else None, "template": o.template.pk if o.template else None}
        for o in _offer(request)
    ]})  # fmt: skip


@require_GET
@portal_view
def slots(request: HttpRequest, token: str, service_id: int) -> JsonResponse:
    found = _offer(request, service_id)
    if not found:
        raise Http404
    clinic = request.portal.clinic  # type: ignore[attr-defined]
    today = timezone.localtime(timezone.now(), ZoneInfo(clinic.time_zone)).date()
    try:
        day = dt.date.fromisoformat(request.GET["day"]) if request.GET.get("day") else today
    except ValueError:
        return _error(ValidationFailed(fields={"day": ["Use YYYY-MM-DD."]}))
    day = min(max(day, today), today + dt.timedelta(days=clinic.online_days_ahead))
    staff = online.bookable_professionals(clinic, found[0].service)
    free = online.free_slots(clinic, staff, service=found[0].service, patient=request.portal.patient,  # type: ignore[attr-defined]
                             package=found[0].package, first_day=day, days=portal.DAYS_SHOWN)  # fmt: skip
    return JsonResponse({"from": day.isoformat(), "professionals": [
        {"id": p.pk, "name": p.name, "slots": [s.isoformat() for s in free.get(p.pk, [])]} for p in staff
    ]})  # fmt: skip


@require_POST
@portal_view
def book(request: HttpRequest, token: str, service_id: int) -> JsonResponse:
    found = _offer(request, service_id)
    if not found:
        raise Http404
    state = request.portal  # type: ignore[attr-defined]
    try:
        data = _body(request)
        staff = {p.pk: p for p in online.bookable_professionals(state.clinic, found[0].service)}
        chosen = data.get("professional")
        professional = staff.get(chosen) if isinstance(chosen, int) else None
        start = online.posted_start(str(data.get("start", "")))
        if professional is None or start is None:
            raise ValidationFailed(fields={"start": ["Choose one of the times offered."]})
        appointment = online.online_book(clinic=state.clinic, patient=state.patient, professional=professional,
                                         service=found[0].service, start=start, package=found[0].package)  # fmt: skip
    except ApplicationError as error:
        return _error(error)
    body = {"id": appointment.pk, "start": appointment.start.isoformat(), "professional": appointment.professional_id,
            "package": appointment.patient_package_id}  # fmt: skip
    return JsonResponse(body, status=201)


def _json_404(view: Any) -> Any:
    """A missing thing answers JSON here too, never the HTML 404 page."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = view(request, *args, **kwargs)
        except Http404:
            return JsonResponse({"code": "not_found", "detail": "Not found.", "fields": {}}, status=404)
        if response.status_code == 302:  # `portal_view` sends a stranger to the sign-in
            return JsonResponse({"code": "not_signed_in", "detail": "Sign in with a code first.", "fields": {}},
                                status=401)  # fmt: skip
        return response

    return wrapper


portal_urlpatterns = [
    path("api/code/", _json_404(code_request), name="api-code"),
    path("api/code/verify/", _json_404(code_verify), name="api-code-verify"),
    path("api/me/", _json_404(me), name="api-me"),
    path("api/sessions/<int:appointment_id>/cancel/", _json_404(cancel), name="api-cancel"),
    path("api/offer/", _json_404(offer), name="api-offer"),
    path("api/slots/<int:service_id>/", _json_404(slots), name="api-slots"),
    path("api/book/<int:service_id>/", _json_404(book), name="api-book"),
]
