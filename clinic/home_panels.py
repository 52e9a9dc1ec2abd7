"""The home page's cards, per role (issue 14).

The home page belongs to `clinic`, which knows nothing of appointments,
payments or packages; the apps above it register their cards here from
their `AppConfig.ready()`, as they do for the patient's file
(`patients.file_panels`). A card has a name, an order, the area of the page
it goes in, who sees it (roles and/or a permission) and a function that
returns its context for the request's `Home`, or None to leave it out.

    home_panels.register(HomePanel("agenda", order=10, template="scheduling/_home_agenda.html",
                                   context=agenda_context))

The manager's "this week" card is `clinic`'s own: it shows the figures the
apps register (`register_figures`), each read by its own app's selector and
compared with the same days of last week.

Everything is read in the clinic's time zone: `Home.today` is the clinic's
today, not the server's. The cards name patients; the page reports who they
are through `patients_shown`, which the patients app connects to its access
log (LGPD / GDPR), so that the home page writes one log query however many
cards there are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils import timezone

from clinic.hooks import Hook
from clinic.models import Clinic, Membership, Professional, Role
from clinic.permissions import Perm, membership_has_perm

Area = Literal["top", "main", "side"]


@dataclass(frozen=True)
class Period:
    """[start, end) in the clinic's time zone."""

    start: dt.datetime
    end: dt.datetime

    @property
    def first_day(self) -> dt.date:
        return self.start.date()


class Home:
    """What every card reads: the request, the clinic, the reader's role and
    the clinic's today. Built once per request; the user's professional
    profile is read (one query) only by a card that asks for it."""

    def __init__(self, request: HttpRequest, clinic: Clinic, membership: Membership, now: dt.datetime | None = None):
        self.request = request
        self.clinic = clinic
        self.membership = membership
        self.tz = ZoneInfo(clinic.time_zone)
        self.now = timezone.localtime(now or timezone.now(), self.tz)

    @property
    def role(self) -> str:
        return self.membership.role

    def has_perm(self, permission: Perm) -> bool:
        return membership_has_perm(self.membership, permission)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def day(self, day: dt.date) -> Period:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)
        following = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)
        return Period(start, following)

    @cached_property
    def today_period(self) -> Period:
        return self.day(self.today)

    @cached_property
    def week(self) -> Period:
        """This week so far: from Monday 00:00 to now."""
        monday = self.today - dt.timedelta(days=self.today.weekday())
        return Period(dt.datetime.combine(monday, dt.time.min, tzinfo=self.tz), self.now)

    @cached_property
    def last_week(self) -> Period:
        """The same days of last week, to the same time: a fair comparison
        on a Wednesday afternoon."""
        return Period(_days_before(self.week.start, 7), _days_before(self.week.end, 7))

    @cached_property
    def professional(self) -> Professional | None:
        """The reader's own calendar in this clinic, if they have one."""
        if self.request.user.pk is None:
            return None
        return Professional.objects.filter(clinic=self.clinic, user_id=self.request.user.pk, is_active=True).first()

    @property
    def sees_only_own(self) -> bool:
        """A professional's cards show their own sessions, not the clinic's."""
        return self.role == Role.PROFESSIONAL


def _days_before(moment: dt.datetime, days: int) -> dt.datetime:
    """The same wall-clock time `days` earlier (across a DST change too)."""
    local = moment.replace(tzinfo=None) - dt.timedelta(days=days)
    tz = moment.tzinfo
    assert tz is not None
    return local.replace(tzinfo=tz)


def _may_see(home: Home, roles: frozenset[str] | None, permission: Perm | None) -> bool:
    if roles is not None and home.role not in roles:
        return False
    return permission is None or home.has_perm(permission)


@dataclass(frozen=True)
class HomePanel:
    name: str
    order: int
    template: str
    context: Callable[[Home], dict[str, Any] | None]
    area: Area = "main"
    roles: frozenset[str] | None = None  # None: every role
    permission: Perm | None = None


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    area: Area
    context: dict[str, Any]


@dataclass(frozen=True)
class Figure:
    """One number of the week: this week's value and last week's."""

    name: str
    label: str
    value: int | Decimal
    previous: int | Decimal
    url: str = ""
    currency: str = ""  # set: the value is money in this currency
    detail: str = ""  # a short line in the reader's words, e.g. "2 cancelled, 1 absent"
    higher_is_better: bool = True

    @property
    def change(self) -> int | Decimal:
        return self.value - self.previous

    @property
    def trend(self) -> str:
        """Whether the change is good news, bad news or none ("good", "bad",
        "same"), for the arrow's colour."""
        if self.value == self.previous:
            return "same"
        return "good" if (self.value > self.previous) == self.higher_is_better else "bad"


@dataclass(frozen=True)
class FigureSource:
    name: str
    order: int
    figures: Callable[[Home], Sequence[Figure]]
    roles: frozenset[str] | None = None
    permission: Perm | None = None


@dataclass(frozen=True)
class PatientsShown:
    request: HttpRequest
    patients: list[Any]


# The patients whose names the home page showed (patients: the access log).
patients_shown: Hook[PatientsShown] = Hook("home_panels.patients_shown")

# Who sees the week's figures: the people who run the clinic.
MANAGERS = frozenset({Role.OWNER, Role.MANAGER})


class Registry:
    def __init__(self) -> None:
        self._panels: dict[str, HomePanel] = {}
        self._figures: dict[str, FigureSource] = {}

    def register(self, panel: HomePanel) -> None:
        self._panels[panel.name] = panel

    def register_figures(self, source: FigureSource) -> None:
        self._figures[source.name] = source

    def figures_for(self, home: Home) -> list[Figure]:
        figures: list[Figure] = []
        for source in sorted(self._figures.values(), key=lambda source: (source.order, source.name)):
            if _may_see(home, source.roles, source.permission):
                figures.extend(source.figures(home))
        return figures

    def panels_for(self, home: Home) -> list[RenderedPanel]:
        """The cards the reader may see, with their context, in order; the
        ones that return None are left out."""
        rendered = []
        for panel in sorted(self._panels.values(), key=lambda panel: (panel.order, panel.name)):
            if not _may_see(home, panel.roles, panel.permission):
                continue
            context = panel.context(home)
            if context is not None:
                rendered.append(RenderedPanel(panel.name, panel.template, panel.area, context))
        return rendered


registry = Registry()
register, register_figures, panels_for = registry.register, registry.register_figures, registry.panels_for


def shown_patients(panels: Iterable[RenderedPanel]) -> list[Any]:
    """Every patient the cards name, once (a card lists them in its
    context's `patients_shown`)."""
    seen: dict[int, Any] = {}
    for panel in panels:
        for patient in panel.context.get("patients_shown", ()):
            seen.setdefault(patient.pk, patient)
    return list(seen.values())


def _week_context(home: Home) -> dict[str, Any] | None:
    figures = registry.figures_for(home)
    if not figures:
        return None
    return {"figures": figures, "week": home.week, "last_week": home.last_week, "today": home.today}


# The manager's and owner's card of the week's figures, from the sources the apps register.
register(
    HomePanel("week", order=0, template="clinic/_home_week.html", context=_week_context, area="top", roles=MANAGERS)
)
