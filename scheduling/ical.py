"""A professional's calendar as an iCalendar feed (the `icalendar` package),
behind a secret, revocable link: `/calendar/feed/<token>.ics`.

Phones and mail programs poll it; it needs no login, so the token is the
only secret (256 random bits). A new link replaces the old one, which then
answers 404. Patients are named by their initials unless the organization
chose full names (`Organization.calendar_names`). The feed covers the past
30 days and the next 180, without cancelled sessions; with initials, a
session names no service either (a service can be health information).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.models import CalendarNames, Professional
from clinic.transactions import entry_point
from scheduling.models import Appointment

PAST = dt.timedelta(days=30)
AHEAD = dt.timedelta(days=180)


def initials(name: str) -> str:
    return " ".join(f"{part[0]}." for part in name.split() if part and part[0].isalpha())


@entry_point
def feed_link_renew(*, professional: Professional) -> Professional:
    """A new secret link for the professional's feed (the old one stops working)."""
    locked = Professional.objects.select_for_update().get(pk=professional.pk)
    locked.calendar_token = secrets.token_urlsafe(32)
    locked.save(update_fields=["calendar_token"])
    return locked


@entry_point
def feed_link_revoke(*, professional: Professional) -> Professional:
    locked = Professional.objects.select_for_update().get(pk=professional.pk)
    locked.calendar_token = None
    locked.save(update_fields=["calendar_token"])
    return locked


def professional_by_token(token: str) -> Professional | None:
    if not token or len(token) > 43:
        return None
    with scopes_disabled():  # the token alone says whose calendar it is
        return (
            Professional.objects.select_related("clinic__organization")
            .filter(calendar_token=token, is_active=True, clinic__is_active=True)
            .first()
        )


def feed(professional: Professional, *, now: dt.datetime | None = None) -> bytes:
    """The professional's sessions as an iCalendar document (in its scope)."""
    from icalendar import Calendar, Event

    now = now or timezone.now()
    clinic = professional.clinic
    full = clinic.organization.calendar_names == CalendarNames.FULL
    calendar = Calendar()
    calendar.add("prodid", "-//Clinic//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{professional.name} · {clinic.name}")
    calendar.add("x-wr-timezone", clinic.time_zone)
    appointments = (
        Appointment.objects.filter(
            professional=professional, holds_slot=True, start__gte=now - PAST, start__lt=now + AHEAD
        )
        .select_related("patient", "room")
        .prefetch_related("lines__service")
        .order_by("start", "pk")
    )
    host = settings.PUBLIC_URL.split("://", 1)[-1].split("/", 1)[0]
    for appointment in appointments:
        event = Event()
        name = appointment.patient.full_name if full else initials(appointment.patient.full_name)
        # With initials, no service either: "Psicoterapia" next to initials says too much.
        services = ", ".join(line.service.name for line in appointment.lines.all()) if full else ""
        event.add("uid", f"appointment-{appointment.pk}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", appointment.start)
        event.add("dtend", appointment.end)
        event.add("summary", f"{name} · {services}" if services else name)
        event.add("location", f"{clinic.name} · {appointment.room.name}" if appointment.room else clinic.name)
        calendar.add_component(event)
    document: bytes = calendar.to_ical()
    return document
