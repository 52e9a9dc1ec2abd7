"""Month names as each language writes them in a date.

Django's Brazilian catalogue capitalises the months ("2 de Dezembro de
2026"); Portuguese writes them in lower case ("2 de dezembro de 2026"). The
project's catalogue is read before Django's, so the names marked here and
translated in `locale/` win. Nothing imports this module: it exists for
makemessages.
"""

from django.utils.translation import gettext_noop

MONTHS = (
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
)
