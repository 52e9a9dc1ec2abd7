"""`{{ clinic.time_zone|time_zone_label }}`: "São Paulo (UTC-03:00)"."""

from __future__ import annotations

from django import template

from clinic.time_zones import zone_label

register = template.Library()


@register.filter
def time_zone_label(zone: str) -> str:
    try:
        return zone_label(zone)
    except (ValueError, KeyError, OSError):  # an unknown name: shown as it is stored
        return zone
