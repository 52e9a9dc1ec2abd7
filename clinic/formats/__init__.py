"""The one locale layer for dates and times.

Django's format modules give each language its dates ("29/05/2003",
"05/29/2003", "29.05.2003"); `FORMAT_MODULE_PATH` points at this package,
whose `<language>/formats.py` adjust Django's where staff expect otherwise
(English times as "9:00 AM", never "9 a.m.", which reads "9 a.m.." at the
end of a sentence) and add the few formats of their own the pages need:

- `SESSION_FORMAT`: a session in a list, "Qua 02/12 08:00", "Wed Dec 2, 8:00 AM".
- `SESSION_DAY_FORMAT`: a session's day in a sentence, "Ter 3 Dez", "Tue Dec 3".
- `DAY_MONTH_FORMAT`: "02/12", "Dec 2", "02.12.".
- `WEEKDAY_DAY_FORMAT`: a day heading, "Terça-feira, 02/12", "Tuesday, Dec 2".

Templates use `{{ value|when:"SESSION_FORMAT" }}` (`clinic_formats` tags);
Python uses `format_when(value, "SESSION_FORMAT")`. A page never spells a
format of its own: that is how "05/29/2003" and "Wed 02/12" once shared one
English page.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.utils import formats
from django.utils.translation import get_language

# Used when a language has no format module of its own (the day before month,
# as most of the world writes it).
DEFAULTS = {
    "SESSION_FORMAT": "D d/m H:i",
    "SESSION_DAY_FORMAT": "D j M",
    "DAY_MONTH_FORMAT": "d/m",
    "WEEKDAY_DAY_FORMAT": "l, d/m",
}
NAMES = frozenset(DEFAULTS)


@functools.cache
def _lookup(language: str, name: str) -> str:
    for module in formats.iter_format_modules(language, settings.FORMAT_MODULE_PATH):
        value = getattr(module, name, None)
        if value:
            return str(value)
    return DEFAULTS[name]


def get_format(name: str) -> str:
    """The active language's format called `name`: one of ours or Django's."""
    if name not in NAMES:
        return str(formats.get_format(name))
    return _lookup(get_language() or settings.LANGUAGE_CODE, name)


def format_when(value: dt.date | dt.datetime, name: str) -> str:
    """`value` (already in the clinic's time zone) in the active language's
    format `name`."""
    return formats.date_format(value, get_format(name))
