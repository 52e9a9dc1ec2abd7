"""`{{ value|when:"SESSION_FORMAT" }}`: a date or time in the reader's
language through the one locale layer (`clinic.formats`)."""

from __future__ import annotations

import datetime as dt

from django import template

from clinic.formats import format_when

register = template.Library()


@register.filter(expects_localtime=True)
def when(value: dt.date | dt.datetime | None, name: str) -> str:
    if value in (None, ""):
        return ""
    return format_when(value, name)
