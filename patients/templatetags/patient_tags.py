from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from clinic.normalize import phone_display
from patients.models import Patient

register = template.Library()


@register.filter
def phone(value: str) -> str:
    return phone_display(value)


@register.filter
def message_channels(patient: Any) -> list[tuple[bool, str]]:
    """(allowed, label) per channel: what the file shows of the opt-outs."""
    return [(not patient.opt_out_sms, _("SMS")), (not patient.opt_out_whatsapp, "WhatsApp"),
            (not patient.opt_out_email, _("E-mail"))]  # fmt: skip


@register.filter
def age_on(patient: Patient, day: dt.date) -> int | None:
    return patient.age_on(day)


@register.simple_tag
def patient_flags(patient: Patient, today: dt.date) -> SafeString:
    """The badges next to a patient's name: archived, to review, minor without guardian."""
    flags: list[tuple[str, str, str]] = []
    if not patient.is_active:
        flags.append(("secondary", "archive", _("Archived")))
    if patient.needs_review:
        flags.append(("info", "envelope-paper", _("Self-registered, to review")))
    if patient.is_minor_on(today) and not patient.has_guardian:
        flags.append(("warning", "exclamation-triangle", _("Minor without guardian")))
    return format_html_join(
        "",
        ' <span class="badge rounded-pill text-bg-{} flag-badge"><i class="bi bi-{}" aria-hidden="true"></i> {}</span>',
        flags,
    )


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return str(query.urlencode())


@register.filter
def yes_no(value: Any) -> str:
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    return format_html("{}", value) if value not in (None, "") else "—"


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, key)
