"""What a reminder says, in the clinic's language (X7: "session 4 of 10").

"Olá Maria, lembrete: sessão 4 de 10 de Fisioterapia amanhã, 03/12 às
08:00, com Marcos. Para cancelar: …". A minor's guardian reads the patient's
name in it. WhatsApp sends the same values as the approved template's body
parameters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from clinic.formats import format_when
from clinic.normalize import phone_display
from packages.patient_packages.models import LIVE_STATES, PackageUsage
from patients.messaging.templates_service import reminder_template
from scheduling.models import Appointment


@dataclass(frozen=True)
class ReminderText:
    subject: str
    text: str
    params: tuple[str, ...]
    language: str


def first_name(name: str) -> str:
    return (name.split() or [""])[0]


def session_position(appointment: Appointment) -> tuple[int, int] | None:
    """(N, M): the appointment is the N-th live session of its package of M."""
    package = appointment.patient_package
    if package is None:
        return None
    before = PackageUsage.objects.filter(package=package, state__in=LIVE_STATES, session_start__lte=appointment.start)
    position = before.exclude(session_start=appointment.start, session__gt=appointment.pk).count()
    return max(position, 1), package.sessions_total


def _day(start: dt.datetime, today: dt.date) -> str:
    if start.date() == today:
        return _("today")
    if start.date() == today + dt.timedelta(days=1):
        return _("tomorrow")
    return formats.date_format(start, "l")


def reminder_text(
    appointment: Appointment, *, to_guardian: bool, cancel: str, now: dt.datetime,
    wordings: dict[tuple[int, str], str | None] | None = None,
) -> ReminderText:  # fmt: skip
    """`wordings` caches the organizations' own wordings for a sweep (one
    query per organization and language, not per reminder)."""
    clinic = appointment.clinic
    language = clinic.language
    tz = ZoneInfo(clinic.time_zone)
    with translation.override(language):
        start = timezone.localtime(appointment.start, tz)
        today = timezone.localtime(now, tz).date()
        lines = list(appointment.lines.all())
        service = lines[0].service.name if lines else ""
        position = session_position(appointment)
        patient = appointment.patient
        name = first_name(patient.guardian_name if to_guardian else patient.full_name)
        if position is not None:
            what = _("session %(n)s of %(total)s of %(service)s") % {"n": position[0], "total": position[1],
                                                                      "service": service}  # fmt: skip
        else:
            what = _("your session of %(service)s") % {"service": service} if service else _("your session")
        if to_guardian:
            what = _("%(what)s for %(patient)s") % {"what": what, "patient": first_name(patient.full_name)}
        when = _("%(day)s, %(date)s at %(time)s") % {
            "day": _day(start, today), "date": format_when(start, "DAY_MONTH_FORMAT"),
            "time": formats.time_format(start, "TIME_FORMAT"),
        }  # fmt: skip
        professional = appointment.professional.name if appointment.professional else ""
        cancel_text = cancel or (phone_display(clinic.phone) if clinic.phone else clinic.name)
        key = (clinic.organization_id, language)
        if wordings is None or key not in wordings:
            found = reminder_template(*key)
            if wordings is not None:
                wordings[key] = found
        own = found if wordings is None else wordings[key]
        if own:
            text = own.format(name=name, session=what, when=when, professional=professional or clinic.name,
                              clinic=clinic.name, cancel=cancel_text)  # fmt: skip
        elif professional:
            text = _("Hello %(name)s, reminder: %(what)s %(when)s, with %(professional)s. To cancel: %(cancel)s") % {
                "name": name,
                "what": what,
                "when": when,
                "professional": professional,
                "cancel": cancel_text,
            }
        else:
            text = _("Hello %(name)s, reminder: %(what)s %(when)s. To cancel: %(cancel)s") % {
                "name": name, "what": what, "when": when, "cancel": cancel_text}  # fmt: skip
        subject = _("Reminder: %(what)s %(when)s") % {"what": what, "when": when}
    params = (name, what, when, professional or clinic.name, cancel_text)
    return ReminderText(subject=subject[:200], text=text, params=params, language=language)
