"""What a package's sessions take of its budget limits (S3), and the balances
every screen shows in the same words.

A package's limits are copied onto it when it is linked (`terms["limits"]`).
What counts against them is its live session units (`PackageUsage`, reserved
or debited), each with the service lines it books (`consumption`), so
everything here reads one table. Under the package's row lock (as the
consumption steps call it) the answer cannot change before the booking is
written.

A monthly plan's limits are per cycle: "at most 8 appointments" means 8 in
each calendar month (in the package's clinic's time zone) it renews for.
Every other package's limits are for its whole life.

The balance vocabulary (the same on the package list, the booking modal, the
API and the session card):

- total: the package's sessions;
- used: sessions attended or paid (debited);
- booked: sessions held by appointments still to come (reserved);
- remaining: total - used;
- free to book: total - used - booked, and no more than the budget limits let
  be booked, so a session the list calls free is a session booking accepts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from clinic import money
from packages.catalog.budget import (
    AppointmentLine,
    Budget,
    BudgetCheck,
    BudgetUsage,
    LimitCheck,
    budget_check,
    sessions_that_fit,
)
from packages.catalog.models import Renewal, Service
from packages.patient_packages.models import LIVE_STATES, PackageUsage, PatientPackage, UsageState


def budget_of(package: PatientPackage) -> Budget:
    return Budget.from_dict(package.terms.get("limits") or {})


def has_limits(package: PatientPackage) -> bool:
    return not budget_of(package).is_empty


def service_prices(packages: Iterable[PatientPackage]) -> dict[int, dict[int, Decimal]]:
    """Each package's services at the price a booking takes for them today
    (a booking's line defaults to the service's current price; a service no
    longer in the catalog keeps the price the package was sold with), in one
    query; empty for a package that covers any service."""
    packages = list(packages)
    items = {package.pk: package.terms.get("items") or [] for package in packages}
    wanted = {int(item["service"]) for package_items in items.values() for item in package_items}
    current = dict(Service.objects.filter(pk__in=wanted).values_list("pk", "price")) if wanted else {}
    return {
        package_id: {
            int(item["service"]): current.get(int(item["service"])) or money.money(item.get("unit_price") or "0")
            for item in package_items
        }
        for package_id, package_items in items.items()
    }


def budget_window(package: PatientPackage, when: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The stretch of time whose sessions count against the package's limits:
    the calendar month of `when` for a monthly plan, None (its whole life)
    for any other package."""
    if package.renewal != Renewal.MONTHLY:
        return None
    tz = ZoneInfo(package.clinic.time_zone)
    first = timezone.localtime(when, tz).date().replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime.combine(first, dt.time.min, tzinfo=tz), dt.datetime.combine(following, dt.time.min, tzinfo=tz)


def lines_of(consumption: Iterable[dict[str, object]]) -> list[AppointmentLine]:
    """A usage's stored `consumption` back into budget lines."""
    return [
        AppointmentLine(
            service_id=int(str(line["service"])),
            quantity=int(str(line["quantity"])),
            unit_price=Decimal(str(line["unit_price"])),
        )
        for line in consumption
    ]


@dataclass(frozen=True)
class Taken:
    """What a package's live sessions take of its budget: `used` by the
    debited ones, `booked` by the reserved ones."""

    used: BudgetUsage = field(default_factory=BudgetUsage)
    booked: BudgetUsage = field(default_factory=BudgetUsage)

    @property
    def both(self) -> BudgetUsage:
        return _add(self.used, self.booked)


def _add(a: BudgetUsage, b: BudgetUsage) -> BudgetUsage:
    services = dict(a.services)
    for service_id, usage in b.services.items():
        before = services.get(service_id)
        services[service_id] = (
            usage if before is None else type(usage)(before.quantity + usage.quantity, before.amount + usage.amount)
        )
    return BudgetUsage(appointments=a.appointments + b.appointments, amount=a.amount + b.amount, services=services)


def budget_taken(
    packages: Iterable[PatientPackage], *, when: dt.datetime, exclude_session: int | None = None
) -> dict[int, Taken]:
    """What each package's live sessions take of its budget, in the window of
    `when`: one query however many packages; packages without limits are not
    read (nothing counts against them). `exclude_session` is a session being
    edited, left out to be counted with its new lines."""
    packages = list(packages)
    taken = {package.pk: Taken() for package in packages}
    windows = {package.pk: budget_window(package, when) for package in packages if has_limits(package)}
    if not windows:
        return taken
    condition = Q(package_id__in=[package_id for package_id, window in windows.items() if window is None])
    for package_id, window in windows.items():
        if window is not None:
            condition |= Q(package_id=package_id, session_start__gte=window[0], session_start__lt=window[1])
    rows = PackageUsage.objects.filter(condition, state__in=LIVE_STATES)
    if exclude_session is not None:
        rows = rows.exclude(session=exclude_session)
    lines: dict[tuple[int, str], list[AppointmentLine]] = {}
    counts: dict[tuple[int, str], int] = {}
    for package_id, state, consumption in rows.values_list("package_id", "state", "consumption"):
        key = (package_id, state)
        lines.setdefault(key, []).extend(lines_of(consumption))
        counts[key] = counts.get(key, 0) + 1
    for package_id in windows:
        taken[package_id] = Taken(
            used=BudgetUsage.from_lines(
                lines.get((package_id, UsageState.DEBITED), []),
                appointments=counts.get((package_id, UsageState.DEBITED), 0),
            ),
            booked=BudgetUsage.from_lines(
                lines.get((package_id, UsageState.RESERVED), []),
                appointments=counts.get((package_id, UsageState.RESERVED), 0),
            ),
        )
    return taken


def session_check(
    package: PatientPackage,
    lines: Sequence[AppointmentLine],
    *,
    when: dt.datetime,
    taken: Taken | None = None,
    exclude_session: int | None = None,
    appointments: int = 1,
) -> BudgetCheck:
    """Would `appointments` sessions at `when` with these lines fit the
    package's limits? With no lines and `appointments=0`, the bar of what is
    taken so far."""
    if taken is None:
        taken = budget_taken([package], when=when, exclude_session=exclude_session)[package.pk]
    return budget_check(
        budget_of(package), used=taken.used, booked=taken.booked, lines=lines, appointments=appointments
    )


@dataclass(frozen=True)
class Balance:
    """A package's sessions in the one vocabulary (see the module's docstring)."""

    total: int
    used: int
    booked: int
    free: int
    budget: BudgetCheck
    per: str  # "package", or "month" for a monthly plan's limits

    @property
    def remaining(self) -> int:
        return self.total - self.used

    @property
    def available(self) -> int:
        """Free to book, leaving the budget limits aside."""
        return self.total - self.used - self.booked

    @property
    def limited_by_budget(self) -> bool:
        """The limits, not the sessions, decide how many are free."""
        return self.free < self.available

    @property
    def limiting(self) -> LimitCheck | None:
        """The used-up limit that holds "free to book" below the sessions left."""
        if not self.limited_by_budget:
            return None
        full = [limit for limit in self.budget.limits if limit.is_full]
        return full[0] if full else self.budget.tightest


def balances(
    packages: Iterable[PatientPackage], *, when: dt.datetime | None = None, taken: dict[int, Taken] | None = None
) -> dict[int, Balance]:
    """Each package's balance, its free-to-book sessions bounded by its
    limits (this month's, for a monthly plan), for a list of any length in
    two queries (`taken`, when the caller already read it: one)."""
    when = when or timezone.now()
    packages = list(packages)
    if taken is None:
        taken = budget_taken(packages, when=when)
    prices = service_prices([package for package in packages if has_limits(package)])
    result = {}
    for package in packages:
        package_taken = taken[package.pk]
        budget = budget_of(package)
        available = package.sessions_available
        fits = sessions_that_fit(budget, taken=package_taken.both, prices=prices.get(package.pk, {}))
        result[package.pk] = Balance(
            total=package.sessions_total,
            used=package.sessions_used,
            booked=package.sessions_booked,
            free=max(0, available if fits is None else min(available, fits)),
            budget=session_check(package, [], when=when, taken=package_taken, appointments=0),
            per="month" if package.renewal == Renewal.MONTHLY and not budget.is_empty else "package",
        )
    return result
