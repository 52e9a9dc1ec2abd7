"""Settings pages for the bookable resources of a clinic: professionals (with
their weekly working hours) and rooms.

Everyone in the organization may read the lists of their current clinic;
writing needs `Perm.CONFIGURE_CLINIC` in the clinic the row belongs to (owners
and managers by default).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import resources
from clinic.errors import ApplicationError, add_to_form
from clinic.forms import WORKING_HOURS_PREFIX, ProfessionalForm, RoomForm, WorkingHoursFormSet
from clinic.models import Clinic, Professional, Room, WorkingHours
from clinic.permissions import Perm, membership_has_perm
from clinic.selectors import clinic_membership, professionals_for_clinic, rooms_for_clinic
from clinic.service_forms import check_with_service
from clinic.views import _safe_next

STATUSES = ("active", "inactive", "all")


def _status(request: HttpRequest) -> str:
    status = request.GET.get("status", "active")
    return status if status in STATUSES else "active"


def _can_manage(request: HttpRequest, clinic: Clinic | None) -> bool:
    """CONFIGURE_CLINIC in the clinic the row belongs to, not only the current one:
    a manager of one branch who is a receptionist in another must not edit
    that other branch's team by opening its ids."""
    if clinic is None:
        return False
    return membership_has_perm(clinic_membership(request.memberships, clinic), Perm.CONFIGURE_CLINIC)  # type: ignore[attr-defined]


def _require_manage(request: HttpRequest, clinic: Clinic | None) -> None:
    if not _can_manage(request, clinic):
        raise PermissionDenied


def _current_clinic(request: HttpRequest) -> Clinic:
    clinic: Clinic | None = request.clinic  # type: ignore[attr-defined]
    if clinic is None:
        raise Http404
    return clinic


def _status_counts(model: type[Professional] | type[Room], clinic: Clinic) -> dict[str, int]:
    counts = model.objects.filter(clinic=clinic).aggregate(
        active=Count("pk", filter=Q(is_active=True)), inactive=Count("pk", filter=Q(is_active=False))
    )
    return {"active": counts["active"], "inactive": counts["inactive"], "all": counts["active"] + counts["inactive"]}


def weekly_hours_lines(intervals: Iterable[WorkingHours]) -> list[str]:
    """A week as a few lines, e.g. ["Mon-Fri 08:00-12:00, 13:00-18:00", "Sat 08:00-12:00"]
    (with en dashes): days with the same intervals are grouped, three or more
    consecutive days become a range."""
    days: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for interval in intervals:
        days.setdefault(interval.weekday, []).append((interval.starts_at, interval.ends_at))
    groups: dict[tuple[tuple[dt.time, dt.time], ...], list[int]] = {}
    for weekday in sorted(days):
        groups.setdefault(tuple(sorted(days[weekday])), []).append(weekday)
    lines = []
    for spans, weekdays in sorted(groups.items(), key=lambda item: item[1][0]):
        runs = []
        for _key, run in itertools.groupby(enumerate(weekdays), key=lambda pair: pair[1] - pair[0]):
            members = [weekday for _index, weekday in run]
            if len(members) >= 3:
                runs.append(f"{WEEKDAYS_ABBR[members[0]]}\N{EN DASH}{WEEKDAYS_ABBR[members[-1]]}")
            else:
                runs.extend(str(WEEKDAYS_ABBR[weekday]) for weekday in members)
        hours = ", ".join(f"{start:%H:%M}\N{EN DASH}{end:%H:%M}" for start, end in spans)
        lines.append(f"{', '.join(runs)} {hours}")
    return lines


def weekly_hours_summary(intervals: Iterable[WorkingHours]) -> str:
    """The week in one line: "Mon-Fri 08:00-12:00, 13:00-18:00; Sat 08:00-12:00"."""
    return "; ".join(weekly_hours_lines(intervals))


def _show_error(form: ProfessionalForm | RoomForm, error: ApplicationError) -> list[str]:
    """Put a service error on the form; return the working-hours messages,
    which the page shows above the schedule rather than on top of the form."""
    hours = error.fields.get("working_hours", [])
    rest = {name: msgs for name, msgs in error.fields.items() if name != "working_hours"}
    if rest or not error.fields:
        add_to_form(form, ApplicationError(error.detail, code=error.code, fields=rest))
    return hours


# Professionals


def get_professional_for_user(request: HttpRequest, professional_id: int) -> Professional:
    """A professional of the user's organization; 404 alike for missing and for another tenant's."""
    organization = request.organization  # type: ignore[attr-defined]
    if organization is None:
        raise Http404
    try:
        return Professional.objects.select_related("clinic", "user").get(pk=professional_id, organization=organization)
    except Professional.DoesNotExist:
        raise Http404 from None


@login_required
def professional_list(request: HttpRequest) -> HttpResponse:
    clinic = _current_clinic(request)
    status = _status(request)
    professionals = professionals_for_clinic(clinic, active_only=status == "active")
    if status == "inactive":
        professionals = professionals.filter(is_active=False)
    rows = [(professional, weekly_hours_lines(professional.working_hours.all())) for professional in professionals]
    context = {
        "rows": rows,
        "status": status,
        "counts": _status_counts(Professional, clinic),
        "can_manage": _can_manage(request, clinic),
    }
    return render(request, "clinic/professional_list.html", context)


def _professional_page(request: HttpRequest, professional: Professional | None) -> HttpResponse:
    clinic = professional.clinic if professional else _current_clinic(request)
    data = request.POST if request.method == "POST" else None
    if professional is None:
        form = ProfessionalForm(data, clinic=clinic)
    else:
        form = ProfessionalForm.for_professional(professional, data)
    hours = WorkingHoursFormSet.for_professional(professional, data)  # type: ignore[attr-defined]
    hours_errors: list[str] = []
    # Validate both, so a page with a bad name also shows a bad schedule.
    valid = data is not None and all([form.is_valid(), hours.is_valid()])
    if data is not None and not valid:
        # And the service's rules (overlapping hours, a login already linked,
        # the colour) on what parsed, so that no error waits for a second submit.
        partial = {**form.cleaned_data, **({"working_hours": hours.intervals()} if hours.is_valid() else {})}
        unplaced = check_with_service(
            form,
            lambda _data: resources.professional_check(clinic=clinic, professional=professional, data=partial),
            skip=("working_hours",),
        )
        hours_errors = unplaced.fields.get("working_hours", []) if unplaced else []
    if valid:
        values = {**form.cleaned_data, "working_hours": hours.intervals()}
        try:
            if professional is None:
                saved = resources.professional_create(clinic=clinic, **values)
            else:
                saved = resources.professional_update(professional=professional, **values)
        except ApplicationError as error:
            hours_errors = _show_error(form, error)
        else:
            verb = (
                _("Professional “%(name)s” created.") if professional is None else _("Professional “%(name)s” saved.")
            )
            messages.success(request, verb % {"name": saved.name})
            return redirect("settings-professional-list")
    context = {
        "form": form,
        "hours": hours,
        "hours_errors": hours_errors,
        "professional": professional,
        "clinic": clinic,
    }
    return render(request, "clinic/professional_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def professional_create(request: HttpRequest) -> HttpResponse:
    _require_manage(request, _current_clinic(request))
    return _professional_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def professional_edit(request: HttpRequest, professional_id: int) -> HttpResponse:
    professional = get_professional_for_user(request, professional_id)
    _require_manage(request, professional.clinic)
    return _professional_page(request, professional)


def _professional_set_active(request: HttpRequest, professional_id: int, *, is_active: bool) -> HttpResponse:
    professional = get_professional_for_user(request, professional_id)
    _require_manage(request, professional.clinic)
    resources.professional_set_active(professional=professional, is_active=is_active)
    message = _("“%(name)s” reactivated.") if is_active else _("“%(name)s” deactivated: no new bookings.")
    messages.success(request, message % {"name": professional.name})
    return redirect(_safe_next(request, reverse("settings-professional-list")))


@login_required
@require_POST
def professional_deactivate(request: HttpRequest, professional_id: int) -> HttpResponse:
    return _professional_set_active(request, professional_id, is_active=False)


@login_required
@require_POST
def professional_reactivate(request: HttpRequest, professional_id: int) -> HttpResponse:
    return _professional_set_active(request, professional_id, is_active=True)


@login_required
@require_GET
def working_hours_row(request: HttpRequest) -> HttpResponse:
    """One more blank schedule row (htmx), with the formset's new total."""
    _require_manage(request, _current_clinic(request))
    try:
        index = int(request.GET.get(f"{WORKING_HOURS_PREFIX}-TOTAL_FORMS", "0"))
    except ValueError:
        index = 0
    formset = WorkingHoursFormSet(prefix=WORKING_HOURS_PREFIX)
    index = max(0, min(index, formset.max_num - 1))
    form = formset.form(
        auto_id=formset.auto_id,
        prefix=formset.add_prefix(index),
        empty_permitted=True,
        use_required_attribute=False,
    )
    formset.add_fields(form, index)
    return render(
        request,
        "clinic/professional_hours_row.html",
        {"form": form, "total_forms": index + 1, "prefix": WORKING_HOURS_PREFIX},
    )


# Rooms


def get_room_for_user(request: HttpRequest, room_id: int) -> Room:
    """A room of the user's organization; 404 alike for missing and for another tenant's."""
    organization = request.organization  # type: ignore[attr-defined]
    if organization is None:
        raise Http404
    try:
        return Room.objects.select_related("clinic").get(pk=room_id, organization=organization)
    except Room.DoesNotExist:
        raise Http404 from None


@login_required
def room_list(request: HttpRequest) -> HttpResponse:
    clinic = _current_clinic(request)
    status = _status(request)
    rooms = rooms_for_clinic(clinic, active_only=status == "active")
    if status == "inactive":
        rooms = rooms.filter(is_active=False)
    context = {
        "rooms": rooms,
        "status": status,
        "counts": _status_counts(Room, clinic),
        "can_manage": _can_manage(request, clinic),
    }
    return render(request, "clinic/room_list.html", context)


def _room_page(request: HttpRequest, room: Room | None) -> HttpResponse:
    clinic = room.clinic if room else _current_clinic(request)
    data = request.POST if request.method == "POST" else None
    form = RoomForm(data, initial={"name": room.name} if room else None)
    if data is not None and form.is_valid():
        try:
            if room is None:
                saved = resources.room_create(clinic=clinic, name=form.cleaned_data["name"])
            else:
                saved = resources.room_update(room=room, name=form.cleaned_data["name"])
        except ApplicationError as error:
            _show_error(form, error)
        else:
            verb = _("Room “%(name)s” created.") if room is None else _("Room “%(name)s” saved.")
            messages.success(request, verb % {"name": saved.name})
            return redirect("settings-room-list")
    return render(request, "clinic/room_form.html", {"form": form, "room": room, "clinic": clinic})


@login_required
@require_http_methods(["GET", "POST"])
def room_create(request: HttpRequest) -> HttpResponse:
    _require_manage(request, _current_clinic(request))
    return _room_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def room_edit(request: HttpRequest, room_id: int) -> HttpResponse:
    room = get_room_for_user(request, room_id)
    _require_manage(request, room.clinic)
    return _room_page(request, room)


def _room_set_active(request: HttpRequest, room_id: int, *, is_active: bool) -> HttpResponse:
    room = get_room_for_user(request, room_id)
    _require_manage(request, room.clinic)
    resources.room_set_active(room=room, is_active=is_active)
    message = _("“%(name)s” reactivated.") if is_active else _("“%(name)s” deactivated: no new bookings.")
    messages.success(request, message % {"name": room.name})
    return redirect(_safe_next(request, reverse("settings-room-list")))


@login_required
@require_POST
def room_deactivate(request: HttpRequest, room_id: int) -> HttpResponse:
    return _room_set_active(request, room_id, is_active=False)


@login_required
@require_POST
def room_reactivate(request: HttpRequest, room_id: int) -> HttpResponse:
    return _room_set_active(request, room_id, is_active=True)
