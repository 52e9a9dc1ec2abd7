"""Scheduling's cards on the home page (registered in `apps.py`): today's
agenda, the professional's notes to write, and the week's sessions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic import home_panels
from clinic.home_panels import Figure, FigureSource, Home, HomePanel
from clinic.permissions import Perm
from scheduling import selectors
from scheduling.models import Appointment, AppointmentStatus, BuiltinStatus

# Today's agenda shows this many sessions; the calendar has the rest.
AGENDA_ROWS = 30
# Notes older than this are not asked for any more on the home page.
NOTES_DAYS = 30
NOTES_ROWS = 6


def calendar_url(day: dt.date) -> str:
    return f"{reverse('scheduling:index')}?date={day.isoformat()}"


@dataclass(frozen=True)
class AgendaRow:
    appointment: Appointment
    status: AppointmentStatus | None
    state: str  # "released", "done", "now", "to_mark" (over, its status not set yet) or "next"

    @property
    def status_label(self) -> str:
        return self.status.display_name if self.status else self.appointment.status

    @property
    def status_color(self) -> str:
        return self.status.color if self.status else "#64748b"

    @property
    def services(self) -> str:
        return ", ".join(line.service.name for line in self.appointment.lines.all())


def _state(appointment: Appointment, status: AppointmentStatus | None, now: dt.datetime) -> str:
    if status is not None and status.releases:
        return "released"
    if appointment.status == BuiltinStatus.MISSED or (status is not None and status.debits):
        return "done"
    if appointment.start <= now < appointment.end:
        return "now"
    if appointment.end <= now:
        return "to_mark"
    return "next"


def agenda_context(home: Home) -> dict[str, Any]:
    """The clinic's sessions today (a professional's own only), in order,
    each with its state for the front desk."""
    professional = home.professional if home.sees_only_own else None
    context: dict[str, Any] = {
        "calendar_url": calendar_url(home.today),
        "today": home.today,
        "own": home.sees_only_own,
        "can_book": home.has_perm(Perm.BOOK_APPOINTMENTS),
    }
    if home.sees_only_own and professional is None:
        # A professional's user not linked to a calendar of this clinic.
        return {**context, "no_calendar": True, "rows": [], "total": 0}
    period = home.today_period
    appointments = list(
        selectors.appointment_list(
            clinic_id=home.clinic.pk,
            start=period.start,
            end=period.end,
            professional_id=professional.pk if professional else None,
        )
    )
    statuses = {status.code: status for status in selectors.appointment_statuses()}
    rows = [
        AgendaRow(appointment, statuses.get(appointment.status), _state(appointment, statuses.get(appointment.status),
                                                                        home.now))
        for appointment in appointments
    ]  # fmt: skip
    live = [row for row in rows if row.state != "released"]
    shown = rows[:AGENDA_ROWS]
    if not live:
        # Nothing today: when the next session is, so the card still helps.
        upcoming = selectors.next_appointment(
            clinic_id=home.clinic.pk,
            after=period.end,
            professional_id=professional.pk if professional else None,
            skip_statuses=[code for code, status in statuses.items() if status.releases],
        )
        if upcoming is not None:
            context["next"] = upcoming
            context["next_url"] = calendar_url(upcoming.start.astimezone(home.tz).date())
    return {
        **context,
        "rows": shown,
        "more": len(rows) - len(shown),
        "total": len(live),
        "done": sum(1 for row in live if row.state == "done"),
        "to_mark": sum(1 for row in live if row.state == "to_mark"),
        "released": len(rows) - len(live),
        "patients_shown": [row.appointment.patient for row in shown],
    }


def notes_context(home: Home) -> dict[str, Any] | None:
    """A professional's attended sessions of the last days without an
    evolution note (A8); left out for a reader without a calendar here."""
    professional = home.professional
    if professional is None:
        return None
    since = home.day(home.today - dt.timedelta(days=NOTES_DAYS)).start
    count, appointments = selectors.notes_to_write(
        clinic_id=home.clinic.pk, professional_id=professional.pk, since=since, until=home.now, limit=NOTES_ROWS
    )
    return {
        "count": count,
        "rows": [(appointment, calendar_url(appointment.start.astimezone(home.tz).date())) for appointment in
                 appointments],
        "more": count - len(appointments),
        "days": NOTES_DAYS,
        "patients_shown": [appointment.patient for appointment in appointments],
    }  # fmt: skip


def week_figures(home: Home) -> list[Figure]:
    week, last = selectors.session_outcomes(
        clinic_id=home.clinic.pk,
        periods=[(home.week.start, home.week.end), (home.last_week.start, home.last_week.end)],
    )
    url = calendar_url(home.week.first_day)
    cancelled = ngettext("%(count)s cancelled", "%(count)s cancelled", week.cancelled) % {"count": week.cancelled}
    absent = ngettext("%(count)s absence", "%(count)s absences", week.absent) % {"count": week.absent}
    return [
        Figure("attended", _("Sessions attended"), week.attended, last.attended, url=url),
        Figure(
            "cancelled",
            _("Cancellations and absences"),
            week.cancelled_or_absent,
            last.cancelled_or_absent,
            url=url,
            detail=f"{cancelled} · {absent}",
            higher_is_better=False,
        ),
    ]


def register() -> None:
    home_panels.register(HomePanel("agenda", order=10, template="scheduling/_home_agenda.html", context=agenda_context))
    home_panels.register(
        HomePanel(
            "notes",
            order=15,
            template="scheduling/_home_notes.html",
            context=notes_context,
            permission=Perm.VIEW_CLINICAL_NOTES,
        )
    )
    home_panels.register_figures(FigureSource("sessions", order=10, figures=week_figures, roles=home_panels.MANAGERS))
