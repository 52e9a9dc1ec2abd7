"""Billing's cards on the home page (registered in `apps.py`): what is owed
today and overdue, and the week's money received."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from billing import selectors
from clinic import home_panels
from clinic.home_panels import Figure, FigureSource, Home, HomePanel
from clinic.permissions import Perm
from packages.catalog.templatetags.catalog_tags import money

UNPAID_ROWS = 8


def receivables_url(**params: str) -> str:
    return f"{reverse('billing:index')}?{urlencode({'status': 'open', **params})}"


def unpaid_context(home: Home) -> dict[str, Any]:
    today = home.today
    unpaid = selectors.unpaid_due(clinic_id=home.clinic.pk, today=today, limit=UNPAID_ROWS)
    yesterday = today - dt.timedelta(days=1)
    return {
        "unpaid": unpaid,
        "today": today,
        "currency": home.clinic.currency,
        "today_url": receivables_url(start=today.isoformat(), end=today.isoformat()),
        "overdue_url": receivables_url(end=yesterday.isoformat()),
        "all_url": receivables_url(end=today.isoformat()),
        "more": unpaid.count - len(unpaid.rows),
        "patients_shown": [receivable.patient for receivable in unpaid.rows],
    }


def week_figures(home: Home) -> list[Figure]:
    week, last = selectors.money_received(
        clinic_id=home.clinic.pk,
        periods=[(home.week.start, home.week.end), (home.last_week.start, home.last_week.end)],
    )
    currency = home.clinic.currency
    detail = _("%(amount)s refunded") % {"amount": money(week.refunded, currency)} if week.refunded else ""
    url = reverse("billing:payments") if home.has_perm(Perm.TAKE_PAYMENTS) else ""
    return [Figure("revenue", _("Revenue received"), week.net, last.net, url=url, currency=currency, detail=detail)]


def register() -> None:
    home_panels.register(
        HomePanel(
            "unpaid",
            order=20,
            template="billing/_home_unpaid.html",
            context=unpaid_context,
            area="side",
            permission=Perm.TAKE_PAYMENTS,
        )
    )
    home_panels.register_figures(FigureSource("revenue", order=30, figures=week_figures, roles=home_panels.MANAGERS))
