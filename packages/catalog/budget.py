"""Budget limits of a package (S3), checked as a pure function.

`budget_check` answers, for a budget (the limits), the usage already consumed
and a proposed set of appointment lines: each limit's value, what is used, what
the proposal adds, by how much it would be exceeded, and how full it is. It
reads nothing from the database, so scheduling can call it for a patient
package (its copied limits and its booked appointments), for an appointment
being edited (leave that appointment out of `used` and pass `appointments=0`),
or for a booking of many dates at once (`appointments=n`).

    check = budget_check(budget, used=usage, lines=[AppointmentLine(service_id=7, quantity=1, unit_price=...)])
    check.raise_if_exceeded()          # BudgetExceeded (code "budget_exceeded") naming the limit
    check.tightest_percent             # the bar of SPEC S3; check.level: "ok" / "warning" / "full"
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinic import money
from clinic.errors import ValidationFailed
from packages.catalog.errors import BudgetExceeded

# The bar of SPEC S3: green below 75 %, amber below 100 %, red at 100 %.
WARNING_PERCENT = 75
FULL_PERCENT = 100


class LimitKind(StrEnum):
    APPOINTMENTS = "appointments"
    AMOUNT = "amount"
    SERVICE_QUANTITY = "service_quantity"
    SERVICE_AMOUNT = "service_amount"


class Level(StrEnum):
    OK = "ok"  # green
    WARNING = "warning"  # amber
    FULL = "full"  # red: used up (or past it)


def _plain_amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _amount_or_none(value: Any) -> Decimal | None:
    return None if value is None else money.money(value)


@dataclass(frozen=True)
class ServiceLimit:
    service_id: int
    max_quantity: int | None = None
    max_amount: Decimal | None = None
    service_name: str = ""  # for messages only


@dataclass(frozen=True)
class Budget:
    """The limits; None means "no limit of this kind"."""

    max_appointments: int | None = None
    max_amount: Decimal | None = None
    services: tuple[ServiceLimit, ...] = ()

    def __post_init__(self) -> None:
        # Limits are positive, as the database requires: "no limit" is None.
        if self.max_appointments is not None and self.max_appointments < 1:
            raise ValidationFailed(fields={"max_appointments": [_("A limit must be at least 1.")]})
        if self.max_amount is not None and money.money(self.max_amount, field="max_amount") <= 0:
            raise ValidationFailed(fields={"max_amount": [_("A limit must be more than zero.")]})
        seen: set[int] = set()
        for limit in self.services:
            if limit.service_id in seen:
                raise ValidationFailed(fields={"services": [_("A service has two limits.")]})
            seen.add(limit.service_id)
            if limit.max_quantity is not None and limit.max_quantity < 1:
                raise ValidationFailed(fields={"services": [_("A limit must be at least 1.")]})
            if limit.max_amount is not None and money.money(limit.max_amount, field="services") <= 0:
                raise ValidationFailed(fields={"services": [_("A limit must be more than zero.")]})

    @property
    def is_empty(self) -> bool:
        return self.max_appointments is None and self.max_amount is None and not self.services

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts as decimal strings), e.g. to copy onto a package."""
        return {
            "max_appointments": self.max_appointments,
            "max_amount": _plain_amount(self.max_amount),
            "services": [
                {
                    "service": limit.service_id,
                    "service_name": limit.service_name,
                    "max_quantity": limit.max_quantity,
                    "max_amount": _plain_amount(limit.max_amount),
                }
                for limit in self.services
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Budget:
        """The inverse of `as_dict` (a package's copied limits back into a Budget)."""
        return cls(
            max_appointments=data.get("max_appointments"),
            max_amount=_amount_or_none(data.get("max_amount")),
            services=tuple(
                ServiceLimit(
                    service_id=int(limit["service"]),
                    max_quantity=limit.get("max_quantity"),
                    max_amount=_amount_or_none(limit.get("max_amount")),
                    service_name=limit.get("service_name", ""),
                )
                for limit in data.get("services", ())
            ),
        )


@dataclass(frozen=True)
class AppointmentLine:
    """One service line of an appointment: `unit_price` is the price of one unit."""

    service_id: int
    quantity: int
    unit_price: Decimal

    def __post_init__(self) -> None:
        if self.quantity < 0:
            raise ValidationFailed(fields={"quantity": [_("The quantity cannot be negative.")]})
        money.money(self.unit_price, field="price")

    @property
    def amount(self) -> Decimal:
        return money.line_amount(self.quantity, self.unit_price)


@dataclass(frozen=True)
class ServiceUsage:
    quantity: int = 0
    amount: Decimal = money.ZERO


@dataclass(frozen=True)
class BudgetUsage:
    """What a package has already consumed: appointments, amount, and per service."""

    appointments: int = 0
    amount: Decimal = money.ZERO
    services: Mapping[int, ServiceUsage] = field(default_factory=dict)

    @classmethod
    def from_lines(cls, lines: Iterable[AppointmentLine], *, appointments: int) -> BudgetUsage:
        """The usage of `appointments` booked appointments whose lines are `lines`."""
        amount = money.ZERO
        per_service: dict[int, ServiceUsage] = {}
        for line in lines:
            amount += line.amount
            before = per_service.get(line.service_id, ServiceUsage())
            per_service[line.service_id] = ServiceUsage(before.quantity + line.quantity, before.amount + line.amount)
        return cls(appointments=appointments, amount=amount, services=per_service)


@dataclass(frozen=True)
class LimitCheck:
    """One limit against what is used, what is booked and the proposal.

    `used` is what attended (or paid) sessions took of the limit, `booked`
    what sessions still to come hold, `proposed` what the booking being
    typed would add. Booking is refused past the limit counting all three;
    the bar's colour says how much is used (green below 75 %, amber below
    100 %, red at 100 %), so a package whose sessions are all booked but none
    attended yet is not red.
    """

    kind: LimitKind
    limit: int | Decimal
    used: int | Decimal
    proposed: int | Decimal
    service_id: int | None = None
    service_name: str = ""
    booked: int | Decimal = 0

    @property
    def total(self) -> int | Decimal:
        return self.used + self.booked + self.proposed

    @property
    def exceeded(self) -> bool:
        """The proposal adds to this limit and takes it past its value.

        A limit already past its value (it was lowered) does not block a
        proposal that adds nothing to it.
        """
        return self.proposed > 0 and self.total > self.limit

    @property
    def exceeded_by(self) -> int | Decimal:
        """How far past the limit the usage would end, with the proposal."""
        if not self.exceeded:
            return money.ZERO if self.is_amount else 0
        return self.total - self.limit

    @property
    def remaining(self) -> int | Decimal:
        """What is left of the limit for new bookings (after the proposal)."""
        left = self.limit - self.total
        return left if left > 0 else (money.ZERO if self.is_amount else 0)

    @property
    def percent_used(self) -> Decimal:
        """How much of the limit attended sessions used, in percent (one decimal)."""
        return money.percent(self.used, self.limit)

    @property
    def percent_booked(self) -> Decimal:
        """How much of the limit the sessions to come hold (with the proposal)."""
        return money.percent(self.booked + self.proposed, self.limit)

    @property
    def percent_total(self) -> Decimal:
        """Used, booked and proposed together: how close booking is to the limit."""
        return money.percent(self.total, self.limit)

    @property
    def fullness(self) -> Fraction:
        """Exactly how full with everything booked (1 = nothing more fits)."""
        return Fraction(Decimal(self.total)) / Fraction(Decimal(self.limit))

    @property
    def level(self) -> Level:
        """The colour: how much is used. Compared exactly, not the rounded percentage."""
        if self.used * 100 >= self.limit * FULL_PERCENT:
            return Level.FULL
        if self.used * 100 >= self.limit * WARNING_PERCENT:
            return Level.WARNING
        return Level.OK

    @property
    def is_full(self) -> bool:
        """Nothing more can be booked against this limit."""
        return self.total >= self.limit

    @property
    def is_amount(self) -> bool:
        return self.kind in (LimitKind.AMOUNT, LimitKind.SERVICE_AMOUNT)

    def _show(self, value: int | Decimal) -> str:
        return number_format(value, 2, force_grouping=True) if self.is_amount else str(value)

    def _values(self) -> dict[str, str]:
        return {
            "total": self._show(self.total),
            "used": self._show(self.used),
            "booked": self._show(self.booked + self.proposed),
            "limit": self._show(self.limit),
            "service": self.service_name or f"#{self.service_id}",
        }

    @property
    def label(self) -> str:
        values = self._values()
        if self.kind == LimitKind.APPOINTMENTS:
            return ngettext("at most %(limit)s appointment", "at most %(limit)s appointments", int(self.limit)) % values
        if self.kind == LimitKind.AMOUNT:
            return _("at most %(limit)s in total") % values
        if self.kind == LimitKind.SERVICE_QUANTITY:
            return _("at most %(limit)s × %(service)s") % values  # noqa: RUF001
        return _("at most %(limit)s for %(service)s") % values

    @property
    def summary(self) -> str:
        """How much is taken, with the proposal: "7 of 8 appointments"."""
        values = self._values()
        if self.kind == LimitKind.APPOINTMENTS:
            return (
                ngettext("%(total)s of %(limit)s appointment", "%(total)s of %(limit)s appointments", int(self.limit))
                % values
            )
        if self.kind == LimitKind.AMOUNT:
            return _("%(total)s of %(limit)s in total") % values
        if self.kind == LimitKind.SERVICE_QUANTITY:
            return _("%(total)s of %(limit)s × %(service)s") % values  # noqa: RUF001
        return _("%(total)s of %(limit)s for %(service)s") % values

    @property
    def used_label(self) -> str:
        """The used segment in words: "5 used", "600,00 used"."""
        if self.is_amount:
            return _("%(amount)s used") % {"amount": self._show(self.used)}
        return ngettext("%(count)s used", "%(count)s used", int(self.used)) % {"count": self.used}

    @property
    def booked_label(self) -> str:
        """The booked segment in words (with the booking being typed): "2 booked"."""
        booked = self.booked + self.proposed
        if self.is_amount:
            return _("%(amount)s booked") % {"amount": self._show(booked)}
        return ngettext("%(count)s booked", "%(count)s booked", int(booked)) % {"count": booked}

    @property
    def breakdown(self) -> str:
        return f"{self.used_label} · {self.booked_label}"

    @property
    def message(self) -> str:
        return _(
            "Budget limit “%(label)s”: %(taken)s already used or booked, %(proposed)s more would exceed it by %(over)s."
        ) % {
            "label": self.label,
            "taken": self._show(self.used + self.booked),
            "proposed": self._show(self.proposed),
            "over": self._show(self.exceeded_by),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts as decimal strings, counts as integers."""

        def plain(value: int | Decimal) -> int | str:
            return str(value) if self.is_amount else int(value)

        return {
            "kind": str(self.kind),
            "service": self.service_id,
            "limit": plain(self.limit),
            "used": plain(self.used),
            "booked": plain(self.booked),
            "proposed": plain(self.proposed),
            "exceeded_by": plain(self.exceeded_by),
            "remaining": plain(self.remaining),
            "percent_used": str(self.percent_used),
            "percent_booked": str(self.percent_booked),
            "exceeded": self.exceeded,
            "level": str(self.level),
        }


@dataclass(frozen=True)
class BudgetCheck:
    limits: tuple[LimitCheck, ...]

    @property
    def exceeded(self) -> tuple[LimitCheck, ...]:
        return tuple(limit for limit in self.limits if limit.exceeded)

    @property
    def ok(self) -> bool:
        return not self.exceeded

    @property
    def tightest(self) -> LimitCheck | None:
        """The fullest limit the proposal bears on, counting what is used and
        booked (the first one listed among equals); None without limits.

        With a proposal, a limit on a service it does not book is left out: a
        used-up assessment does not turn a physiotherapy session's bar red.
        Without one (what a package has taken so far), every limit counts.
        """
        if not self.limits:
            return None
        limits = self.limits
        if any(limit.proposed for limit in limits):
            limits = tuple(limit for limit in limits if limit.service_id is None or limit.proposed) or limits
        return max(limits, key=lambda limit: limit.fullness)

    @property
    def tightest_percent(self) -> Decimal | None:
        """How close the tightest limit is to full, used and booked together."""
        tightest = self.tightest
        return tightest.percent_total if tightest else None

    @property
    def level(self) -> Level | None:
        tightest = self.tightest
        return tightest.level if tightest else None

    def raise_if_exceeded(self) -> None:
        exceeded = self.exceeded
        if exceeded:
            raise BudgetExceeded(exceeded[0].message, fields={"budget": [limit.message for limit in exceeded]})

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tightest_percent": None if self.tightest_percent is None else str(self.tightest_percent),
            "level": None if self.level is None else str(self.level),
            "limits": [limit.as_dict() for limit in self.limits],
        }


def budget_check(
    budget: Budget,
    *,
    used: BudgetUsage | None = None,
    booked: BudgetUsage | None = None,
    lines: Sequence[AppointmentLine] = (),
    appointments: int = 1,
) -> BudgetCheck:
    """Check every limit of `budget` against what is `used` (attended or paid
    sessions), what is `booked` (sessions to come) and the proposal.

    The proposal is `appointments` new appointments (1 for a booking, n for n
    dates at once, 0 when only the lines of an appointment already counted
    change, or for the bar of what is taken so far) whose lines together are
    `lines`.
    """
    if appointments < 0:
        raise ValidationFailed(fields={"appointments": [_("The number of appointments cannot be negative.")]})
    used = used or BudgetUsage()
    booked = booked or BudgetUsage()
    proposed = BudgetUsage.from_lines(lines, appointments=appointments)
    checks: list[LimitCheck] = []

    def add(kind: LimitKind, limit: int | Decimal, pick: Any, service: ServiceLimit | None = None) -> None:
        checks.append(
            LimitCheck(
                kind,
                limit,
                used=pick(used),
                proposed=pick(proposed),
                booked=pick(booked),
                service_id=service.service_id if service else None,
                service_name=service.service_name if service else "",
            )
        )

    if budget.max_appointments is not None:
        add(LimitKind.APPOINTMENTS, budget.max_appointments, lambda usage: usage.appointments)
    if budget.max_amount is not None:
        add(LimitKind.AMOUNT, budget.max_amount, lambda usage: usage.amount)
    for limit in budget.services:

        def of(usage: BudgetUsage, service_id: int = limit.service_id) -> ServiceUsage:
            return usage.services.get(service_id, ServiceUsage())

        if limit.max_quantity is not None:
            add(LimitKind.SERVICE_QUANTITY, limit.max_quantity, lambda usage, of=of: of(usage).quantity, limit)
        if limit.max_amount is not None:
            add(LimitKind.SERVICE_AMOUNT, limit.max_amount, lambda usage, of=of: of(usage).amount, limit)
    return BudgetCheck(tuple(checks))


def sessions_that_fit(budget: Budget, *, taken: BudgetUsage, prices: Mapping[int, Decimal]) -> int | None:
    """How many more one-service sessions the limits let a package book, when
    each session books one unit of one of the services in `prices` (the
    package's services and their unit prices). None: the limits bound nothing.

    `taken` is what is used and booked so far. Each service can take as many
    sessions as its own limits leave; an appointments limit bounds their sum;
    a total amount limit is filled cheapest service first, which books the
    most sessions. Without `prices` (a package for any service) only the
    appointments limit bounds: any other limit could be met by another service.
    """
    bounds: list[int] = []
    if budget.max_appointments is not None:
        bounds.append(max(budget.max_appointments - taken.appointments, 0))
    if prices:
        by_service = {limit.service_id: limit for limit in budget.services}
        room: dict[int, int | None] = {}
        for service_id, price in prices.items():
            limit = by_service.get(service_id)
            so_far = taken.services.get(service_id, ServiceUsage())
            fits: int | None = None
            if limit is not None and limit.max_quantity is not None:
                fits = max(limit.max_quantity - so_far.quantity, 0)
            if limit is not None and limit.max_amount is not None and price > 0:
                by_amount = max(int((limit.max_amount - so_far.amount) // price), 0)
                fits = by_amount if fits is None else min(fits, by_amount)
            room[service_id] = fits
        if budget.max_amount is not None:
            left = budget.max_amount - taken.amount
            count: int | None = 0
            for service_id, price in sorted(prices.items(), key=lambda item: (item[1], item[0])):
                fits = room[service_id]
                if price > 0:
                    by_total = max(int(left // price), 0)
                    fits = by_total if fits is None else min(fits, by_total)
                if fits is None:  # a free service without limits of its own
                    count = None
                    break
                assert count is not None
                count += fits
                left -= fits * price
            if count is not None:
                bounds.append(count)
        elif all(fits is not None for fits in room.values()):
            bounds.append(sum(fits for fits in room.values() if fits is not None))
    return min(bounds) if bounds else None
