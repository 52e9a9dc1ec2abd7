"""The organization's own wording of reminders, per language (A7).

A template is text with placeholders in braces: {name}, {session}, {when},
{professional}, {clinic}, {cancel}. Saving checks that it names no other
placeholder and that it still says how to cancel; an empty text goes back to
the built-in wording.
"""

from __future__ import annotations

import string

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from clinic.errors import ValidationFailed
from clinic.models import Organization
from patients.messaging.models import REMINDER_PLACEHOLDERS, MessageKind, MessageTemplate

LIMIT = 600


def _placeholders(text: str) -> list[str]:
    """The fields the text names; only bare ones ({name}): a format spec or a
    conversion ({name:>99}, {name!r}) is refused as a malformed brace."""
    malformed = ValidationFailed(fields={"text": [_("Close every brace: {name}, {session}…")]})
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise malformed from None
    fields = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if spec or conversion:
            raise malformed
        fields.append(field)
    return fields


@transaction.atomic
def reminder_template_save(*, organization: Organization, language: str, text: str) -> MessageTemplate | None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(fields={"language": [_("Unknown language.")]})
    text = text.strip()
    rows = MessageTemplate.objects.filter(organization=organization, kind=MessageKind.REMINDER, language=language)
    if not text:
        rows.delete()
        return None
    errors = []
    unknown = sorted(set(_placeholders(text)) - set(REMINDER_PLACEHOLDERS))
    if unknown:
        errors.append(_("Unknown placeholders: %(names)s. Use %(known)s.") % {
            "names": ", ".join(f"{{{n}}}" for n in unknown),
            "known": ", ".join(f"{{{n}}}" for n in REMINDER_PLACEHOLDERS)})  # fmt: skip
    if "cancel" not in _placeholders(text):
        errors.append(_("Keep {cancel}: the patient must be told how to cancel."))
    if len(text) > LIMIT:
        errors.append(_("At most %(limit)s characters.") % {"limit": LIMIT})
    if not errors:
        try:
            text.format(**{name: "x" for name in REMINDER_PLACEHOLDERS})
        except (KeyError, IndexError, ValueError):
            errors.append(_("Close every brace: {name}, {session}…"))
    if errors:
        raise ValidationFailed(fields={"text": errors})
    template, _created = MessageTemplate.objects.update_or_create(
        organization=organization, kind=MessageKind.REMINDER, language=language, defaults={"text": text}
    )
    return template


def reminder_template(organization_id: int, language: str) -> str | None:
    found = MessageTemplate.objects.filter(organization_id=organization_id, kind=MessageKind.REMINDER,
                                           language=language).values_list("text", flat=True).first()  # fmt: skip
    return found
