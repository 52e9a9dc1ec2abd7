"""The patient's own page, scheduling's part (X7, A6): their sessions, with
"session 4 of 10", cancelling one inside the clinic's window (through the
core's entry point), and the card that leads to online booking."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinic.errors import ApplicationError
from packages.patient_packages.models import LIVE_STATES, PackageUsage
from patients import file_panels
from patients.file_panels import FilePanel
from patients.models import Patient
from patients.portal.session import portal_view
from scheduling import online, services
from scheduling.models import Appointment
from scheduling.selectors import status_labels

UPCOMING = 10


def positions(appointments: list[Appointment]) -> dict[int, tuple[int, int]]:
    """{appointment id: (N, M)}: each session's place among its package's
    live sessions, in one query for them all."""
    packages = {a.patient_package_id for a in appointments if a.patient_package_id}
    if not packages:
        return {}
    order: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    rows = PackageUsage.objects.filter(package_id__in=packages, state__in=LIVE_STATES)
    for package_id, session, start in rows.values_list("package_id", "session", "session_start"):
        order[package_id].append((start, session))
    found = {}
    for appointment in appointments:
        package = appointment.patient_package
        if package is None:
            continue
        sessions = sorted(order[package.pk])
        place = next((n for n, (_start, session) in enumerate(sessions, 1) if session == appointment.pk), None)
        if place is not None:
            found[appointment.pk] = (place, package.sessions_total)
    return found


def can_cancel(appointment: Appointment, now: dt.datetime) -> bool:
    window = dt.timedelta(hours=appointment.clinic.cancellation_hours)
    return appointment.start - now >= window


def cancel_refusal(appointment: Appointment, now: dt.datetime) -> str:
    """Why the patient may not cancel this session here ("" when they may):
    "over" (attended, released already) or "window" (too close to it)."""
    status = services.status_for_code(appointment.status, active_only=False)
    if status.debits or status.releases:
        return "over"
    return "" if can_cancel(appointment, now) else "window"


def context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    now = timezone.now()
    base = Appointment.objects.filter(patient=patient).select_related("professional", "clinic", "patient_package")
    upcoming = list(base.filter(start__gte=now, holds_slot=True).order_by("start")[:UPCOMING])
    past = list(base.filter(start__lt=now).order_by("-start")[:UPCOMING])
    return {
        "upcoming": [(a, can_cancel(a, now)) for a in upcoming],
        "past": past,
        "positions": positions(upcoming + past),
        "status_labels": status_labels(),
        "cancellation_hours": request.portal.clinic.cancellation_hours,  # type: ignore[attr-defined]
    }


@require_POST
@portal_view
def cancel(request: HttpRequest, token: str, appointment_id: int) -> HttpResponse:
    """Cancel one of the patient's sessions inside the clinic's window: the
    package session is released by the core's entry point."""
    portal = request.portal  # type: ignore[attr-defined]
    appointment = Appointment.objects.select_related("clinic").filter(pk=appointment_id, patient=portal.patient).first()
    if appointment is None:
        raise Http404
    refusal = cancel_refusal(appointment, timezone.now())
    if refusal == "over":
        messages.error(request, _("This session cannot be cancelled any more."))
        return redirect("portal:home", token=token)
    if refusal == "window":
        messages.error(request, _("This session is too close to cancel here: please call the clinic."))
        return redirect("portal:home", token=token)
    try:
        services.appointment_set_status(appointment=appointment, status="cancelled", actor=None)
    except ApplicationError as error:
        messages.error(request, error.summary)
    else:
        messages.success(request, _("Your session was cancelled."))
    return redirect("portal:home", token=token)


# Online booking (A6) ------------------------------------------------------------

DAYS_SHOWN = 7


def _offer_for(request: HttpRequest, service_id: int) -> online.Offer | None:
    portal = request.portal  # type: ignore[attr-defined]
    return next((o for o in online.offer(portal.patient, portal.clinic) if o.service.pk == service_id), None)


@require_http_methods(["GET"])
@portal_view
def book(request: HttpRequest, token: str) -> HttpResponse:
    """Step 1: the services the patient's packages cover (and trigger services)."""
    portal = request.portal  # type: ignore[attr-defined]
    if not portal.clinic.online_booking:
        raise Http404
    context = {"clinic": portal.clinic, "patient": portal.patient, "token": token,
               "offers": online.offer(portal.patient, portal.clinic)}  # fmt: skip
    return render(request, "portal/book.html", context)


@require_http_methods(["GET", "POST"])
@portal_view
def book_service(request: HttpRequest, token: str, service_id: int) -> HttpResponse:
    """Step 2: a week of free slots per professional; a slot's button books it."""
    portal = request.portal  # type: ignore[attr-defined]
    clinic = portal.clinic
    if not clinic.online_booking:
        raise Http404
    chosen = _offer_for(request, service_id)
    if chosen is None:
        raise Http404
    zone = ZoneInfo(clinic.time_zone)
    today = timezone.localtime(timezone.now(), zone).date()
    professionals = online.bookable_professionals(clinic, chosen.service)
    error = ""
    if request.method == "POST":
        professional = next((p for p in professionals if str(p.pk) == request.POST.get("professional")), None)
        start = online.posted_start(request.POST.get("start", ""))
        if professional is None or start is None:
            error = _("Choose one of the times shown.")
        else:
            try:
                appointment = online.online_book(
                    clinic=clinic, patient=portal.patient, professional=professional, service=chosen.service,
                    start=start, package=chosen.package,
                )  # fmt: skip
            except ApplicationError as refused:
                error = refused.summary
            else:
                local = timezone.localtime(appointment.start, zone)
                messages.success(request, _("Booked: %(service)s on %(day)s at %(time)s with %(professional)s.") % {
                    "service": chosen.service.name, "day": formats.date_format(local, "SHORT_DATE_FORMAT"),
                    "time": formats.time_format(local, "TIME_FORMAT"), "professional": professional.name})  # fmt: skip
                return redirect("portal:home", token=token)
    horizon = today + dt.timedelta(days=clinic.online_days_ahead)
    try:
        first = dt.date.fromisoformat(request.GET.get("day", "")) if request.GET.get("day") else today
    except ValueError:
        first = today
    first = min(max(first, today), horizon)  # the page pages inside the booking horizon only
    slots = online.free_slots(clinic, professionals, service=chosen.service, patient=portal.patient,
                              package=chosen.package, first_day=first, days=DAYS_SHOWN)  # fmt: skip
    rows = []
    for professional in professionals:
        by_day: dict[dt.date, list[dt.datetime]] = defaultdict(list)
        for start in slots.get(professional.pk, []):
            local = timezone.localtime(start, zone)
            by_day[local.date()].append(local)
        rows.append((professional, sorted(by_day.items())))
    context = {
        "clinic": clinic, "patient": portal.patient, "token": token, "offer": chosen, "rows": rows, "error": error,
        "previous": (first - dt.timedelta(days=DAYS_SHOWN)).isoformat() if first > today else "",
        "next": (first + dt.timedelta(days=DAYS_SHOWN)).isoformat() if first + dt.timedelta(days=DAYS_SHOWN) <= horizon
        else "",
    }  # fmt: skip
    return render(request, "portal/book_service.html", context, status=409 if error else 200)


def booking_context(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    clinic = request.portal.clinic  # type: ignore[attr-defined]
    return {"token": clinic.portal_token} if clinic.online_booking else None


portal_urlpatterns = [
    path("me/sessions/<int:appointment_id>/cancel/", cancel, name="cancel"),
    path("me/book/", book, name="book"),
    path("me/book/<int:service_id>/", book_service, name="book-service"),
    # The clinic's public booking link: the patient signs in, then books.
    path("book/", book, name="public-book"),
]


def register() -> None:
    file_panels.portal.register(FilePanel("book", order=1, template="portal/_book_card.html", context=booking_context))
    file_panels.portal.register(FilePanel("sessions", order=10, template="portal/_sessions.html", context=context))
