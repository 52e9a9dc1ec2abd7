"""The calendar (A1-A5, A8, S3): the page, its JSON feed, the booking and
edit modal (loaded with htmx) with its patient search, the live budget bars,
status buttons, the drag-and-drop move, evolution notes, and the statuses
settings page.

Every write goes through `scheduling.services` / `scheduling.recurrence`; an
`ApplicationError` becomes a form error in the modal or a JSON error for the
move. Permissions are checked before any lookup, so a 403 never tells whether
an id exists; lookups go through the tenant scope and the current clinic, so a
missing id and another organization's answer 404 alike. Times are read and
shown in the clinic's time zone.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, trigger_client_event

from clinic.errors import ApplicationError, add_to_form
from clinic.models import Clinic, Professional, User
from clinic.permissions import Perm, request_has_perm, require_perm
from clinic.selectors import professionals_for_clinic, rooms_for_clinic
from packages.catalog.models import Posting
from packages.patient_packages import budgets
from packages.patient_packages.models import PatientPackage
from patients.models import AccessChannel, Patient
from patients.selectors import patient_search as patients_matching
from patients.services import access_log_record
from scheduling import package_sessions, recurrence, selectors, services, wording
from scheduling.errors import FutureSession
from scheduling.forms import (
    AppointmentForm,
    AppointmentStatusForm,
    BaseLineFormSet,
    EvolutionNoteForm,
    MoveForm,
    bookable_patients,
    line_formset,
)
from scheduling.models import Appointment, AppointmentStatus, BuiltinStatus

# The booking modal's patient picker: how many matches it lists, and the
# shortest term it searches for (one letter would list ten random patients).
PATIENT_SEARCH_LIMIT = 10
PATIENT_SEARCH_MIN_LENGTH = 2
# FullCalendar's locale codes for the UI languages (settings.LANGUAGES).
CALENDAR_LOCALES = {"pt-br": "pt-br", "en": "en", "es": "es", "de": "de"}
MODAL = "scheduling/_appointment_modal.html"
# The day view's column of the appointments without a professional.
NO_PROFESSIONAL = "none"
# FullCalendar's `daysOfWeek` counts from Sunday (0); `Weekday` from Monday (0).
FULLCALENDAR_WEEKDAY = {weekday: (weekday + 1) % 7 for weekday in range(7)}


# Helpers --------------------------------------------------------------------------


def _clinic(request: HttpRequest) -> Clinic:
    clinic: Clinic | None = getattr(request, "clinic", None)
    if clinic is None:
        raise PermissionDenied
    return clinic


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def in_clinic_time(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Read and show date-times in the current clinic's time zone."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        clinic = getattr(request, "clinic", None)
        if clinic is None:
            return view(request, *args, **kwargs)
        with timezone.override(ZoneInfo(clinic.time_zone)):
            return view(request, *args, **kwargs)

    return wrapped


def get_appointment_for_user(request: HttpRequest, appointment_id: int) -> Appointment:
    """An appointment of the current clinic; 404 alike for a missing id, another
    clinic's and another organization's."""
    appointment = selectors.appointment_for_clinic(clinic_id=_clinic(request).pk, appointment_id=appointment_id)
    if appointment is None:
        raise Http404
    return appointment


def _statuses(request: HttpRequest, *, active_only: bool = False) -> list[AppointmentStatus]:
    return list(selectors.appointment_statuses(active_only=active_only))


def _show_error(form: Any, error: ApplicationError) -> None:
    """The error's message on top of the form (a double booking names the
    conflicting appointment there), its field messages on their fields."""
    if error.code == "validation_error":
        add_to_form(form, error)
        return
    form.add_error(None, error.detail)
    for name, field_messages in error.fields.items():
        if name in form.fields:
            for message in field_messages:
                form.add_error(name, message)


def _saved(
    message: str, warnings: list[str], *, close: bool = True, action: dict[str, str] | None = None
) -> HttpResponse:
    """An htmx answer that swaps nothing: the page closes the modal, refetches
    the calendar and shows the message (and warnings) as toasts; `action` is a
    link the message offers ({url, label})."""
    response = reswap(HttpResponse(), "none")
    payload: dict[str, Any] = {"message": message, "warnings": warnings, "close": close}
    if action:
        payload["action"] = action
    return trigger_client_event(response, "appointmentSaved", payload)


def _parse_moment(value: str | None, tz: ZoneInfo) -> dt.datetime | None:
    """An ISO date or date-time from FullCalendar; without an offset it is clinic time."""
    if not value:
        return None
    value = value.strip().replace(" ", "+")  # a "+03:00" offset arrives as " 03:00" when not URL-encoded
    moment = parse_datetime(value)
    if moment is None:
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
        moment = dt.datetime.combine(day, dt.time())
    return timezone.make_aware(moment, tz) if timezone.is_naive(moment) else moment


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# The calendar page and its feed -----------------------------------------------------


@login_required
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request)
    language = translation.get_language() or "pt-br"
    initial_date = request.GET.get("date", "")
    try:
        dt.date.fromisoformat(initial_date)
    except ValueError:
        initial_date = ""
    can_book = request_has_perm(request, Perm.BOOK_APPOINTMENTS)
    professionals = list(professionals_for_clinic(clinic))
    config = {
        "feedUrl": reverse("scheduling:feed"),
        "resourcesUrl": reverse("scheduling:resources"),
        "bookUrl": reverse("scheduling:book") if can_book else "",
        "editUrl": reverse("scheduling:edit", args=[0]),
        "moveUrl": reverse("scheduling:move", args=[0]),
        "locale": CALENDAR_LOCALES.get(language.lower(), "pt-br"),
        "timeZone": clinic.time_zone,
        "initialDate": initial_date,
        "canBook": can_book,
        # A clinic of several professionals opens on the day with a column
        # each (what its front desk looks at first); one professional, on the week.
        "byProfessional": len(professionals) > 1,
        "noProfessional": NO_PROFESSIONAL,
        "messages": {
            "moveFailed": _("The appointment could not be moved."),
            "loadFailed": _("The calendar could not be loaded. Try again."),
            "bookedOnline": _("booked online"),
            "undo": _("Undo"),
            "close": _("Close"),
        },
    }
    patient_id = _int_or_none(request.GET.get("patient"))
    context = {
        # Opened from a patient's file: new bookings (and series) are for that patient.
        "for_patient": Patient.objects.filter(pk=patient_id, is_active=True).first() if patient_id else None,
        "professionals": professionals,
        "rooms": rooms_for_clinic(clinic),
        "statuses": _statuses(request, active_only=True),
        "calendar_config": config,
    }
    return render(request, "scheduling/index.html", context)


def _services_label(appointment: Appointment) -> str:
    return ", ".join(
        f"{line.service.name} ×{line.quantity}" if line.quantity > 1 else line.service.name  # noqa: RUF001
        for line in appointment.lines.all()
    )


def _range(request: HttpRequest, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime] | None:
    """The [start, end) a calendar feed asks for, at most two months long."""
    start = _parse_moment(request.GET.get("start"), tz)
    end = _parse_moment(request.GET.get("end"), tz)
    if start is None or end is None or end <= start or end - start > dt.timedelta(days=62):
        return None
    return start, end


@login_required
@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    """FullCalendar's JSON feed: the current clinic's appointments overlapping
    [start, end), in the clinic's time (ISO with offset), coloured by status."""
    clinic = _clinic(request)
    tz = ZoneInfo(clinic.time_zone)
    moments = _range(request, tz)
    if moments is None:
        return HttpResponseBadRequest(_("Give a start and an end at most two months apart."))
    start, end = moments
    appointments = list(
        selectors.appointment_list(
            clinic_id=clinic.pk,
            start=start,
            end=end,
            professional_id=_int_or_none(request.GET.get("professional")),
            room_id=_int_or_none(request.GET.get("room")),
        )
    )
    # The calendar shows patients' names: a read of their data (T5), one row per patient.
    patients = {appointment.patient_id: appointment.patient for appointment in appointments}
    access_log_record(request=request, patients=patients.values(), channel=AccessChannel.PAGE, what="calendar")
    statuses = {status.code: status for status in _statuses(request)}
    can_book = request_has_perm(request, Perm.BOOK_APPOINTMENTS)
    events = []
    for appointment in appointments:
        status = statuses.get(appointment.status)
        color = status.color if status else "#64748b"
        services_label = _services_label(appointment)
        cancelled = appointment.status == BuiltinStatus.CANCELLED
        events.append(
            {
                "id": str(appointment.pk),
                "title": f"{appointment.patient.full_name} · {services_label}"
                if services_label
                else appointment.patient.full_name,
                "start": appointment.start.astimezone(tz).isoformat(),
                "end": appointment.end.astimezone(tz).isoformat(),
                "backgroundColor": color,
                "borderColor": color,
                "editable": can_book and not cancelled,
                # Its column in the day view by professional.
                "resourceId": str(appointment.professional_id) if appointment.professional_id else NO_PROFESSIONAL,
                "classNames": (["is-cancelled"] if cancelled else [])
                + (["is-online"] if appointment.booked_online else []),
                "extendedProps": {
                    "online": appointment.booked_online,
                    "status": appointment.status,
                    "statusName": status.display_name if status else appointment.status,
                    "patient": appointment.patient.full_name,
                    "services": services_label,
                    "professional": appointment.professional.name if appointment.professional else "",
                    "room": appointment.room.name if appointment.room else "",
                    "package": appointment.patient_package.name if appointment.patient_package else "",
                },
            }
        )
    return JsonResponse(events, safe=False)


def _business_hours(professional: Professional) -> list[dict[str, Any]]:
    """The professional's working hours as FullCalendar's `businessHours`:
    the day view greys the rest of their column."""
    spans: dict[tuple[str, str], list[int]] = {}
    for interval in professional.working_hours.all():
        key = (interval.starts_at.strftime("%H:%M"), interval.ends_at.strftime("%H:%M"))
        spans.setdefault(key, []).append(FULLCALENDAR_WEEKDAY[interval.weekday])
    return [
        {"daysOfWeek": sorted(days), "startTime": starts, "endTime": ends}
        for (starts, ends), days in sorted(spans.items())
    ]


@login_required
@require_GET
def resources(request: HttpRequest) -> HttpResponse:
    """The columns of the day view by professional (FullCalendar's resource
    feed) for [start, end): the clinic's active professionals with their
    working hours, an inactive one who still has appointments then, and "No
    professional" when an appointment has none. `professional` keeps one."""
    clinic = _clinic(request)
    tz = ZoneInfo(clinic.time_zone)
    moments = _range(request, tz)
    if moments is None:
        return HttpResponseBadRequest(_("Give a start and an end at most two months apart."))
    start, end = moments
    professionals, unassigned = selectors.calendar_professionals(
        clinic=clinic, start=start, end=end, professional_id=_int_or_none(request.GET.get("professional"))
    )
    rows: list[dict[str, Any]] = []
    for professional in professionals:
        row: dict[str, Any] = {
            "id": str(professional.pk),
            "title": professional.name,
            "extendedProps": {"active": professional.is_active, "specialty": professional.specialty},
        }
        hours = _business_hours(professional)
        # Without working hours on file nothing is greyed: the clinic has not said.
        if hours:
            row["businessHours"] = hours
        rows.append(row)
    if unassigned:
        rows.append({"id": NO_PROFESSIONAL, "title": _("No professional"), "extendedProps": {"active": True}})
    return JsonResponse(rows, safe=False)


# The modal: booking -------------------------------------------------------------------


def _initial_from_query(request: HttpRequest, clinic: Clinic) -> dict[str, Any]:
    tz = ZoneInfo(clinic.time_zone)
    initial: dict[str, Any] = {"status": BuiltinStatus.SCHEDULED, "interval": 1}
    start = _parse_moment(request.GET.get("start"), tz)
    end = _parse_moment(request.GET.get("end"), tz)
    if start is not None:
        initial["start"] = start.astimezone(tz)
        # A click selects one slot; only a longer drag says how long the session is.
        if end is not None and end - start > dt.timedelta(minutes=30):
            initial["end"] = end.astimezone(tz)
    for name in ("professional", "room", "patient"):
        value = _int_or_none(request.GET.get(name))
        if value is not None:
            initial[name] = value
    return initial


def _modal(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    clinic = _clinic(request)
    context.setdefault("appointment", None)
    context.setdefault("preview", None)
    context["currency"] = clinic.currency
    context["can_book"] = request_has_perm(request, Perm.BOOK_APPOINTMENTS)
    context["can_view_notes"] = request_has_perm(request, Perm.VIEW_CLINICAL_NOTES)
    context["can_take_payments"] = request_has_perm(request, Perm.TAKE_PAYMENTS)
    context["can_register_patients"] = request_has_perm(request, Perm.MANAGE_PATIENTS)
    return render(request, MODAL, context)


@login_required
@require_http_methods(["GET", "POST"])
@in_clinic_time
def appointment_new(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.BOOK_APPOINTMENTS)
    clinic = _clinic(request)
    _statuses(request)
    if request.method == "GET":
        form = AppointmentForm(clinic=clinic, initial=_initial_from_query(request, clinic))
        lines = line_formset(clinic, initial=[{"quantity": 1}])
        return _modal(request, {"form": form, "lines": lines, "packages": _package_rows(request, form, lines)})

    form = AppointmentForm(request.POST, clinic=clinic)
    lines = line_formset(clinic, request.POST)
    preview = None
    if form.is_valid() and lines.is_valid():
        data = form.cleaned_data
        rule = form.recurrence()
        try:
            if rule is not None:
                if request.POST.get("confirm_series") != "1":
                    preview = _series_preview(clinic, rule, data, lines)
                else:
                    return _book_series(request, clinic, rule, data, lines)
            else:
                booking = services.appointment_book(
                    clinic=clinic,
                    patient=data["patient"],
                    start=data["start"],
                    end=data["end"],
                    lines=lines.line_inputs(),
                    actor=_actor(request),
                    professional=data["professional"],
                    room=data["room"],
                    status=data["status"],
                    patient_package=data["patient_package"],
                    authorization=data["authorization"],
                    notes=data["notes"],
                    confirm_future=data.get("confirm_future", False),
                )
                return _saved(
                    _booked_message(booking.appointment), booking.warnings, action=_pay_action(request, booking)
                )
        except FutureSession as error:
            # Booked as attended days ahead: the modal asks, and a second
            # submit with `confirm_future` books it.
            confirm = {"question": error.detail, "status": _status_name(request, data["status"])}
            context = {"form": form, "lines": lines, "packages": _package_rows(request, form, lines),
                       "confirm_future": confirm}  # fmt: skip
            return _modal(request, context)
        except ApplicationError as error:
            _show_series_error(form, error, rule, clinic) if rule else _show_error(form, error)
    else:
        _show_slot_errors(form, lines, clinic)
    context = {"form": form, "lines": lines, "preview": preview, "packages": _package_rows(request, form, lines)}
    return _modal(request, context)


def _show_slot_errors(form: Any, lines: Any, clinic: Clinic, appointment: Appointment | None = None) -> None:
    """A form with errors of its own also shows whether the slot is taken,
    so that a missing patient and a double booking show on one submit."""
    data = form.cleaned_data
    try:
        services.booking_check(
            clinic=clinic, start=data.get("start"), end=data.get("end"), lines=lines.partial_lines(),
            professional=data.get("professional"), room=data.get("room"), appointment=appointment,
        )  # fmt: skip
    except ApplicationError as error:
        if "start" not in form.errors:
            _show_error(form, error)


def _status_name(request: HttpRequest, code: str) -> str:
    """A status in the reader's language (built-ins translated)."""
    return next((status.display_name for status in _statuses(request) if status.code == code), code)


@login_required
@require_GET
def patient_search(request: HttpRequest) -> HttpResponse:
    """htmx: the booking modal's patient picker. The first matches of `q`
    among the patients a booking may be for, by the patient list's search
    (name without accents, document, phone), as buttons that fill the form's
    hidden `patient` input."""
    require_perm(request, Perm.BOOK_APPOINTMENTS)
    clinic = _clinic(request)
    term = request.GET.get("q", "").strip()
    found: list[Patient] = []
    if len(term) >= PATIENT_SEARCH_MIN_LENGTH:
        matches = patients_matching(bookable_patients(), term).select_related("clinic")
        found = list(matches[: PATIENT_SEARCH_LIMIT + 1])
    patients = found[:PATIENT_SEARCH_LIMIT]
    # Names, birth dates, documents and phones are the patients' data: one
    # access-log row per patient listed, as the patient list does.
    access_log_record(request=request, patients=patients, channel=AccessChannel.PAGE, what="booking search")
    context = {
        "patients": patients,
        "more": len(found) > PATIENT_SEARCH_LIMIT,
        "search": term,
        "searched": len(term) >= PATIENT_SEARCH_MIN_LENGTH,
        "clinic": clinic,
    }
    return render(request, "scheduling/_patient_results.html", context)


def _pay_action(request: HttpRequest, booking: services.Booking) -> dict[str, str] | None:
    """A session booked without a package ("skip" in the package list), or
    with one that charges each session, owes its price: the toast offers the
    one-click payment (seed 001). A package that posts its total covers it."""
    package = booking.appointment.patient_package
    if (package is not None and package.posting == Posting.TOTAL) or not request_has_perm(request, Perm.TAKE_PAYMENTS):
        return None
    url = reverse("billing:pay") + f"?appointment={booking.appointment.pk}"
    return {"url": url, "label": _("Register payment")}


def _booked_message(appointment: Appointment) -> str:
    return _("Booked: %(patient)s, %(when)s.") % {
        "patient": appointment.patient.full_name,
        "when": wording.moment_label(appointment.start),
    }


def _duration(data: dict[str, Any], lines: BaseLineFormSet) -> dt.timedelta:
    if data.get("end"):
        return data["end"] - data["start"]
    minutes = sum(line.service.duration_minutes * line.quantity for line in lines.line_inputs())
    return dt.timedelta(minutes=minutes)


def _series_preview(
    clinic: Clinic, rule: recurrence.Recurrence, data: dict[str, Any], lines: BaseLineFormSet
) -> dict[str, Any]:
    previews = recurrence.series_preview(
        rule=rule,
        clinic=clinic,
        duration=_duration(data, lines),
        professional=data["professional"],
        room=data["room"],
    )
    conflicts = [p for p in previews if p.conflict is not None]
    return {"rows": previews, "conflicts": len(conflicts), "free": len(previews) - len(conflicts)}


def _book_series(
    request: HttpRequest, clinic: Clinic, rule: recurrence.Recurrence, data: dict[str, Any], lines: BaseLineFormSet
) -> HttpResponse:
    bookings = recurrence.appointment_book_series(
        rule=rule,
        clinic=clinic,
        patient=data["patient"],
        lines=lines.line_inputs(),
        actor=_actor(request),
        professional=data["professional"],
        room=data["room"],
        duration=_duration(data, lines),
        patient_package=data["patient_package"],
        skip_conflicts=request.POST.get("skip_conflicts") == "1",
    )
    warnings = list(dict.fromkeys(warning for booking in bookings for warning in booking.warnings))
    message = _("%(count)s sessions booked for %(patient)s.") % {
        "count": len(bookings),
        "patient": data["patient"].full_name,
    }
    return _saved(message, warnings)


def _show_series_error(
    form: AppointmentForm, error: ApplicationError, rule: recurrence.Recurrence | None, clinic: Clinic
) -> None:
    """A series names its failing dates (`rows.<n>`): show each with its date."""
    if error.code != "rows_invalid" or rule is None:
        _show_error(form, error)
        return
    starts = recurrence.occurrences(rule, ZoneInfo(clinic.time_zone))
    form.add_error(None, error.detail)
    for name, field_messages in error.fields.items():
        index = int(name.split(".", 1)[1])
        when = formats.date_format(timezone.localtime(starts[index]), "SHORT_DATETIME_FORMAT")
        for message in field_messages:
            form.add_error(None, f"{when}: {message}")


# The modal: packages and their budget bars (A5, S3) ----------------------------------


def _package_rows(
    request: HttpRequest, form: AppointmentForm, lines: BaseLineFormSet, appointment: Appointment | None = None
) -> dict[str, Any]:
    """The patient's packages the booking can use, each with its budget bar for
    the lines typed so far, and which one is chosen (the first, unless the
    user chose another or "skip")."""
    patient_id = appointment.patient_id if appointment else _int_or_none(str(form["patient"].value() or ""))
    if patient_id is None:
        return {"patient_id": None, "rows": [], "selected": ""}
    if lines.is_bound:
        line_inputs = lines.partial_lines()
    elif appointment is not None:
        line_inputs = [services.LineInput(line.service, line.quantity, line.price) for line in appointment.lines.all()]
    else:
        line_inputs = []
    offered = selectors.packages_for_booking(
        patient_id=patient_id, service_ids=[line.service.pk for line in line_inputs], with_exhausted=True
    )
    current = appointment.patient_package if appointment else None
    if current is not None and current.pk not in {p.pk for p in offered}:
        offered.insert(0, current)
    lines_typed = package_sessions.budget_lines(
        [(line.service, line.quantity, line.service.price if line.price is None else line.price)
         for line in line_inputs]
    )  # fmt: skip
    # A monthly plan's limits are per month: the month of the start typed so far.
    when = _form_start(form) or (appointment.start if appointment else timezone.now())
    taken = budgets.budget_taken(offered, when=when, exclude_session=appointment.pk if appointment else None)
    # The balance is the package's as it is now; the bar, the same sessions
    # with this appointment counted once (its typed lines, not its stored ones).
    balances = budgets.balances(offered, when=when, taken=None if appointment else taken)
    rows: list[dict[str, Any]] = []
    bookable: list[PatientPackage] = []
    with_free: list[PatientPackage] = []
    choosable: set[str] = set()
    for package in offered:
        check = budgets.session_check(package, lines_typed, when=when, taken=taken[package.pk])
        own = current is not None and package.pk == current.pk
        balance = balances[package.pk]
        # In the list's words: a package with no session free to book is
        # marked so; one with no session left at all (all used or booked)
        # cannot be chosen, unless it is this appointment's own.
        no_free = balance.free < 1 and not own
        exhausted = balance.available < 1 and not own
        rows.append({"package": package, "balance": balance, "check": check, "no_free": no_free,
                     "exhausted": exhausted})  # fmt: skip
        if not exhausted:
            choosable.add(str(package.pk))
        if no_free:
            continue
        with_free.append(package)
        if check.ok or own:
            bookable.append(package)
    # Chosen for the user: the first package with sessions free to book that
    # this booking fits; if none fits, the first with sessions free to book,
    # so that saving says what the budget refuses (its bar says why) rather
    # than booking the session without its package; with none free, "skip"
    # (a used-up package is never chosen for the user). A choice the user
    # made stays while it can be chosen.
    default = bookable[0] if bookable else (with_free[0] if with_free else None)
    if form.is_bound and "patient_package" in form.data:
        chosen = str(form.data.get("patient_package") or "")
        selected = chosen if chosen in choosable or chosen == "" else (str(default.pk) if default else "")
    elif appointment is not None:
        selected = str(appointment.patient_package_id or "")
    else:
        selected = str(default.pk) if default else ""
    return {"patient_id": patient_id, "rows": rows, "selected": selected}


def _form_start(form: AppointmentForm) -> dt.datetime | None:
    """The start typed in the modal so far (or the slot it opened on), if it reads as one."""
    try:
        start = form.fields["start"].clean(form.data.get("start")) if form.is_bound else form.initial.get("start")
    except ValidationError:
        return None
    return start if isinstance(start, dt.datetime) else None


@login_required
@require_GET
@in_clinic_time
def booking_packages(request: HttpRequest) -> HttpResponse:
    """htmx: the package choice with a live budget bar per package, for the
    patient and service lines of the modal's form (`appointment` when editing)."""
    require_perm(request, Perm.BOOK_APPOINTMENTS)
    clinic = _clinic(request)
    appointment = None
    appointment_id = request.GET.get("appointment", "")
    if appointment_id:
        if not appointment_id.isdigit():
            raise Http404
        appointment = get_appointment_for_user(request, int(appointment_id))
    patient_id = _int_or_none(request.GET.get("patient"))
    if patient_id is not None and appointment is None and not Patient.objects.filter(pk=patient_id).exists():
        raise Http404
    form = AppointmentForm(request.GET, clinic=clinic, editing=appointment is not None)
    lines = line_formset(clinic, request.GET)
    packages = _package_rows(request, form, lines, appointment)
    return render(request, "scheduling/_packages.html", {"packages": packages, "currency": clinic.currency})


# The modal: editing ---------------------------------------------------------------------


def _edit_context(request: HttpRequest, appointment: Appointment, form: AppointmentForm,
                  lines: BaseLineFormSet, **extra: Any) -> dict[str, Any]:  # fmt: skip
    statuses = _statuses(request, active_only=True)
    context: dict[str, Any] = {
        "appointment": appointment,
        "form": form,
        "lines": lines,
        "statuses": statuses,
        "current_status": next((s for s in statuses if s.code == appointment.status), None),
        "packages": _package_rows(request, form, lines, appointment),
        "terminal": appointment.status in services.TERMINAL,
        "reminders": list(appointment.reminders.select_related("message").order_by("channel")),
    }
    if request_has_perm(request, Perm.VIEW_CLINICAL_NOTES):
        context["notes"] = list(selectors.evolution_notes(appointment))
        context["note_form"] = extra.pop("note_form", None) or EvolutionNoteForm()
    context.update(extra)
    return context


def _edit_forms(appointment: Appointment, data: Any = None) -> tuple[AppointmentForm, BaseLineFormSet]:
    clinic = appointment.clinic
    initial = {
        "professional": appointment.professional_id,
        "room": appointment.room_id,
        "start": timezone.localtime(appointment.start),
        "end": timezone.localtime(appointment.end),
        "patient_package": appointment.patient_package_id,
        "authorization": appointment.authorization,
        "notes": appointment.notes,
    }
    form = AppointmentForm(data, clinic=clinic, editing=True, initial=initial)
    line_initial = [
        {"service": line.service, "quantity": line.quantity, "price": line.price} for line in appointment.lines.all()
    ]
    return form, line_formset(clinic, data, initial=line_initial)


def _reload(request: HttpRequest, appointment: Appointment) -> Appointment:
    return get_appointment_for_user(request, appointment.pk)


def _changed(response: HttpResponse) -> HttpResponse:
    """The modal stays open with the new state; the calendar refetches."""
    return trigger_client_event(response, "calendarChanged", {})


@login_required
@require_http_methods(["GET", "POST"])
@in_clinic_time
def appointment_edit(request: HttpRequest, appointment_id: int) -> HttpResponse:
    require_perm(request, Perm.BOOK_APPOINTMENTS)
    appointment = get_appointment_for_user(request, appointment_id)
    if request.method == "GET":
        access_log_record(
            request=request, patients=[appointment.patient], channel=AccessChannel.PAGE, what="appointment"
        )
        form, lines = _edit_forms(appointment)
        return _modal(request, _edit_context(request, appointment, form, lines))
    form, lines = _edit_forms(appointment, request.POST)
    if form.is_valid() and lines.is_valid():
        data = form.cleaned_data
        edits = {
            "start": data["start"],
            "end": data["start"] + _duration(data, lines),  # an emptied end follows the services
            "professional": data["professional"],
            "room": data["room"],
            "lines": lines.line_inputs(),
            "patient_package": data["patient_package"],
            "authorization": data["authorization"],
            "notes": data["notes"],
        }
        try:
            if data.get("following") and appointment.series_id:
                # "This and the following": the same time of day, professional
                # and room, in one transaction with this occurrence's edits.
                booking = recurrence.appointment_update_following(
                    appointment=appointment,
                    actor=_actor(request),
                    time=timezone.localtime(data["start"]).time(),
                    professional=data["professional"],
                    room=data["room"],
                    this=edits,
                )[0]  # this occurrence's booking comes first
            else:
                booking = services.appointment_update(appointment=appointment, actor=_actor(request), **edits)
        except ApplicationError as error:
            _show_error(form, error)
        else:
            message = _("Saved: %(patient)s, %(when)s.") % {
                "patient": appointment.patient.full_name,
                "when": wording.moment_label(booking.appointment.start),
            }
            return _saved(message, booking.warnings)
    else:
        _show_slot_errors(form, lines, appointment.clinic, appointment)
    return _modal(request, _edit_context(request, appointment, form, lines))


@login_required
@require_POST
@in_clinic_time
def appointment_status(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """A status button of the modal: the one transition function (K8)."""
    require_perm(request, Perm.BOOK_APPOINTMENTS)
    appointment = get_appointment_for_user(request, appointment_id)
    code = request.POST.get("status", "")
    status_error = None
    status_message = None
    confirm_future = None
    try:
        services.appointment_set_status(
            appointment=appointment, status=code, actor=_actor(request),
            confirm_future=request.POST.get("confirm_future") == "1",
        )  # fmt: skip
    except FutureSession as error:
        # Attended days ahead: the modal asks; "Yes" posts again with `confirm_future`.
        confirm_future = {"question": error.detail, "status": _status_name(request, code), "code": code}
    except ApplicationError as error:
        status_error = error.summary
    else:
        appointment = _reload(request, appointment)
        status_message = _("Status changed to “%(status)s”.") % {"status": _status_name(request, appointment.status)}
    form, lines = _edit_forms(appointment)
    context = _edit_context(request, appointment, form, lines, status_error=status_error,
                            status_message=status_message, status_confirm=confirm_future)  # fmt: skip
    response = _modal(request, context)
    return _changed(response) if status_message is not None else response


@login_required
@require_POST
def appointment_delete(request: HttpRequest, appointment_id: int) -> HttpResponse:
    require_perm(request, Perm.BOOK_APPOINTMENTS)
    appointment = get_appointment_for_user(request, appointment_id)
    name = appointment.patient.full_name
    try:
        services.appointment_delete(appointment=appointment, actor=_actor(request))
    except ApplicationError as error:
        response = HttpResponse(status=200)
        return trigger_client_event(reswap(response, "none"), "appointmentError", {"message": error.detail})
    return _saved(_("Appointment of %(patient)s deleted.") % {"patient": name}, [])


@login_required
@require_POST
@in_clinic_time
def appointment_move(request: HttpRequest, appointment_id: int) -> JsonResponse:
    """A drag or resize on the calendar. Answers JSON: the page reverts the
    event and shows `detail` when the move is refused (double booking)."""
    require_perm(request, Perm.BOOK_APPOINTMENTS)
    appointment = get_appointment_for_user(request, appointment_id)
    form = MoveForm(request.POST, clinic=_clinic(request))
    if not form.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        return JsonResponse({"code": "validation_error", "detail": _("Some fields are not valid."), "fields": fields},
                            status=400)  # fmt: skip
    data = form.cleaned_data
    before: tuple[dt.datetime, dt.datetime, Professional | None] = (
        appointment.start,
        appointment.end,
        appointment.professional,
    )
    edits: dict[str, Any] = {"start": data["start"], "end": data["end"]}
    if form.moves_professional:
        edits["professional"] = data["professional"]
    try:
        booking = services.appointment_update(appointment=appointment, actor=_actor(request), **edits)
    except ApplicationError as error:
        refusal = error.as_dict()
        if data["undo"]:
            # The slot it came from may be taken by now: say so, the event stays.
            refusal["detail"] = _("The move was not undone. %(reason)s") % {"reason": error.summary}
        return JsonResponse(refusal, status=error.status)
    moved = booking.appointment
    professional: Professional | None = data["professional"] if form.moves_professional else before[2]
    return JsonResponse(
        {
            "id": moved.pk,
            "start": timezone.localtime(moved.start).isoformat(),
            "end": timezone.localtime(moved.end).isoformat(),
            "professional": professional.pk if professional else None,
            "warnings": booking.warnings,
            "message": _moved_message(moved, before, professional, undone=data["undo"]),
            # What "Undo" sends back to this endpoint (none after an undo).
            "undo": None
            if data["undo"]
            else {
                "start": timezone.localtime(before[0]).isoformat(timespec="seconds")[:19],
                "end": timezone.localtime(before[1]).isoformat(timespec="seconds")[:19],
                "professional": str(before[2].pk) if before[2] else "",
            },
        }
    )


def _moved_message(
    moved: Appointment,
    before: tuple[dt.datetime, dt.datetime, Professional | None],
    professional: Professional | None,
    *,
    undone: bool,
) -> str:
    """The toast after a drag or a resize: "Moved to Tue Dec 3, 9:00 AM with
    Ana" (its Undo button follows), "Changed to Tue Dec 3, 9:00 AM-10:30 AM"
    for a resize, "Moved back to …." after an undo."""
    when = wording.moment_label(moved.start)
    if undone:
        if professional is None:
            return _("Moved back to %(when)s.") % {"when": when}
        return _("Moved back to %(when)s with %(professional)s.") % {"when": when, "professional": professional.name}
    if moved.start == before[0] and professional == before[2]:
        return _("Changed to %(when)s–%(end)s") % {"when": when, "end": wording.time_label(moved.end)}  # noqa: RUF001
    if professional is None:
        return _("Moved to %(when)s") % {"when": when}
    return _("Moved to %(when)s with %(professional)s") % {"when": when, "professional": professional.name}


# Evolution notes (A8): professionals and owners only --------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@in_clinic_time
def evolution_notes(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The notes of a session; adding the first one marks it attended (and so
    debits its package). Receptionists get 403 whatever the id."""
    require_perm(request, Perm.VIEW_CLINICAL_NOTES)
    appointment = get_appointment_for_user(request, appointment_id)
    if request.method == "GET":
        context = {"appointment": appointment, "notes": selectors.evolution_notes(appointment),
                   "note_form": EvolutionNoteForm()}  # fmt: skip
        return render(request, "scheduling/_notes.html", context)
    note_form = EvolutionNoteForm(request.POST)
    if note_form.is_valid():
        try:
            services.evolution_note_add(
                appointment=appointment, author=_actor(request), text=note_form.cleaned_data["text"]
            )
        except ApplicationError as error:
            add_to_form(note_form, error)
        else:
            appointment = _reload(request, appointment)
            form, lines = _edit_forms(appointment)
            context = _edit_context(request, appointment, form, lines, status_message=_("Note saved."))
            return _changed(_modal(request, context))
    form, lines = _edit_forms(appointment)
    return _modal(request, _edit_context(request, appointment, form, lines, note_form=note_form))


# Settings: appointment statuses (A2) ------------------------------------------------------


@login_required
@require_GET
def status_list(request: HttpRequest) -> HttpResponse:
    context = {"statuses": _statuses(request), "can_configure": request_has_perm(request, Perm.CONFIGURE_CLINIC)}
    return render(request, "scheduling/status_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def status_edit(request: HttpRequest, status_id: int | None = None) -> HttpResponse:
    require_perm(request, Perm.CONFIGURE_CLINIC)
    current = None
    if status_id is not None:
        current = AppointmentStatus.objects.filter(pk=status_id).first()
        if current is None:
            raise Http404
    form = AppointmentStatusForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.appointment_status_save(
                organization=request.organization,  # type: ignore[attr-defined]
                code=current.code if current else data["code"],
                name=data["name"],
                color=data["color"],
                debits=data["debits"],
                releases=data["releases"],
                status=current,
            )
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Status “%(name)s” saved.") % {"name": saved.display_name})
            return redirect("scheduling:statuses")
    return render(request, "scheduling/status_form.html", {"form": form, "status": current})
