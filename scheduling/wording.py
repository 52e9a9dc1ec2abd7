"""How the calendar's messages say when a session is: "Tue Dec 3, 9:00 AM",
"Ter 03/12 09:00", "in 2 days".

The formats are the project's one locale layer (`clinic.formats`: the
session formats, and Django's TIME_FORMAT as each language writes a time),
so a toast says a time the way the page around it does, and never "9 a.m."
(which ends a sentence as "9 a.m..").
"""

from __future__ import annotations

import datetime as dt
import math

from django.utils import formats, timezone
from django.utils.translation import ngettext, pgettext

from clinic.formats import format_when


def _local(moment: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    return timezone.localtime(moment, tz)


def day_label(moment: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """The session's day in a sentence: "Tue Dec 3", "Ter 3 Dez"."""
    return format_when(_local(moment, tz), "SESSION_DAY_FORMAT")


def time_label(moment: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """The session's time: "9:00 AM", "09:00"."""
    return formats.time_format(_local(moment, tz), "TIME_FORMAT")


def moment_label(moment: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """Day and time: "Tue Dec 3, 9:00 AM", "Ter 03/12 09:00"."""
    return format_when(_local(moment, tz), "SESSION_FORMAT")


def relative_label(moment: dt.datetime, now: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """How far ahead a session is, for a question about it: "in 40 minutes",
    "in 3 hours" (the same day), "tomorrow", "in 2 days" (calendar days in
    the clinic's time zone)."""
    local, local_now = _local(moment, tz), _local(now, tz)
    days = (local.date() - local_now.date()).days
    if days >= 2:
        return ngettext("in %(count)s day", "in %(count)s days", days) % {"count": days}
    if days == 1:
        return pgettext("a session is", "tomorrow")
    minutes = max(1, math.floor((moment - now).total_seconds() / 60))
    if minutes < 60:
        return ngettext("in %(count)s minute", "in %(count)s minutes", minutes) % {"count": minutes}
    hours = minutes // 60
    return ngettext("in %(count)s hour", "in %(count)s hours", hours) % {"count": hours}
