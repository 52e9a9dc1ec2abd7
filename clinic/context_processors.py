from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clinic.permissions import Perm, membership_has_perm

# The main navigation, in order: (url name, label, Bootstrap icon, description).
NAVIGATION = [
    ("patients:index", _("Patients"), "people", _("Register patients, guardians and their files.")),
    ("scheduling:index", _("Calendar"), "calendar3", _("Day and week calendar of professionals and rooms.")),
    ("packages:index", _("Packages"), "box-seam", _("Session packages, balances and their history.")),
    ("billing:index", _("Finance"), "cash-coin", _("Receivables, payments and commissions.")),
    ("reports:index", _("Reports"), "bar-chart-line", _("Package reports and Excel exports.")),
    ("settings", _("Settings"), "gear", _("Clinics, team, rooms and statuses.")),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs: navigation, clinics to switch to, languages."""
    membership = getattr(request, "membership", None)
    navigation = []
    for url_name, label, icon, description in NAVIGATION:
        url = reverse(url_name)
        navigation.append(
            {
                "url": url,
                "label": label,
                "icon": icon,
                "description": description,
                "active": request.path.startswith(url),
            }
        )
    return {
        "navigation": navigation,
        "current_clinic": getattr(request, "clinic", None),
        "current_membership": membership,
        "memberships": getattr(request, "memberships", []),
        "organization": getattr(request, "organization", None),
        "available_languages": settings.LANGUAGES,
        "can_manage_organization": membership_has_perm(membership, Perm.MANAGE_ORGANIZATION),
        # The Team settings: held in any of the reader's clinics (clinic.team).
        "can_manage_team": any(membership_has_perm(m, Perm.MANAGE_TEAM) for m in getattr(request, "memberships", [])),
    }
