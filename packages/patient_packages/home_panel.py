"""The sold packages' cards on the home page (registered in `apps.py`):
packages about to run out, and the week's packages sold."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from clinic import home_panels
from clinic.home_panels import Figure, FigureSource, Home, HomePanel
from clinic.permissions import Perm
from packages.catalog.templatetags.catalog_tags import money
from packages.patient_packages import selectors

RUNNING_OUT_ROWS = 8


def package_url(row: selectors.RunningOut) -> str:
    """The patient's package list, at the package."""
    url = reverse("patient_packages:list", args=[row.package.patient_id])
    return f"{url}#package-{row.package.pk}"


def sales_report_url(home: Home, **params: str) -> str:
    """The sales report (packages about to run out, packages sold), for who may read it."""
    if not home.has_perm(Perm.EXPORT_REPORTS):
        return ""
    return f"{reverse('reports:sales')}?{urlencode(params)}" if params else reverse("reports:sales")


def running_out_context(home: Home) -> dict[str, Any]:
    count, rows = selectors.packages_running_out(
        clinic_id=home.clinic.pk, today=home.today, time_zone=home.clinic.time_zone, limit=RUNNING_OUT_ROWS
    )
    return {
        "count": count,
        "rows": [(row, package_url(row)) for row in rows],
        "more": count - len(rows),
        "today": home.today,
        "free_at_most": selectors.RUNNING_OUT_FREE,
        "days": selectors.RUNNING_OUT_DAYS,
        "report_url": sales_report_url(home, free_at_most=str(selectors.RUNNING_OUT_FREE)),
        "patients_shown": [row.package.patient for row in rows],
    }


def week_figures(home: Home) -> list[Figure]:
    week, last = selectors.packages_sold(
        clinic_id=home.clinic.pk,
        periods=[(home.week.start, home.week.end), (home.last_week.start, home.last_week.end)],
    )
    url = sales_report_url(home, start=home.week.first_day.isoformat(), end=home.today.isoformat())
    detail = money(week.value, home.clinic.currency) if week.packages else ""
    return [Figure("packages_sold", _("Packages sold"), week.packages, last.packages, url=url, detail=detail)]


def register() -> None:
    home_panels.register(
        HomePanel(
            "running_out",
            order=30,
            template="packages/_home_running_out.html",
            context=running_out_context,
            area="side",
            permission=Perm.LINK_PACKAGES,
        )
    )
    home_panels.register_figures(
        FigureSource("packages_sold", order=40, figures=week_figures, roles=home_panels.MANAGERS)
    )
