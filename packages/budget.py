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

from clinic.errors import ValidationFailed
from packages import money
from packages.errors import BudgetExceeded

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
    """One limit against the usage and the proposal."""

    kind: LimitKind
    limit: int | Decimal
    used: int | Decimal
    proposed: int | Decimal
    service_id: int | None = None
    service_name: str = ""

    @property
    def total(self) -> int | Decimal:
        return self.used + self.proposed

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
        left = self.limit - self.total
        return left if left > 0 else (money.ZERO if self.is_amount else 0)

    @property
    def percent_used(self) -> Decimal:
        """How full the limit is with the proposal, in percent (one decimal)."""
        return money.percent(self.total, self.limit)

    @property
    def fullness(self) -> Fraction:
        """Exactly how full (1 = used up)."""
        return Fraction(Decimal(self.total)) / Fraction(Decimal(self.limit))

    @property
    def level(self) -> Level:
        # Compare exactly, not the rounded percentage.
        if self.total * 100 >= self.limit * FULL_PERCENT:
            return Level.FULL
        if self.total * 100 >= self.limit * WARNING_PERCENT:
            return Level.WARNING
        return Level.OK

    @property
    def is_amount(self) -> bool:
        return self.kind in (LimitKind.AMOUNT, LimitKind.SERVICE_AMOUNT)

    def _show(self, value: int | Decimal) -> str:
        return number_format(value, 2, force_grouping=True) if self.is_amount else str(value)

    @property
    def label(self) -> str:
        values = {"limit": self._show(self.limit), "service": self.service_name or f"#{self.service_id}"}
        if self.kind == LimitKind.APPOINTMENTS:
            return _("at most %(limit)s appointments") % values
        if self.kind == LimitKind.AMOUNT:
            return _("at most %(limit)s in total") % values
        if self.kind == LimitKind.SERVICE_QUANTITY:
            return _("at most %(limit)s × %(service)s") % values  # noqa: RUF001
        return _("at most %(limit)s for %(service)s") % values

    @property
    def summary(self) -> str:
        """How much is used, with the proposal: "7 of 8 appointments"."""
        values = {
            "total": self._show(self.total),
            "limit": self._show(self.limit),
            "service": self.service_name or f"#{self.service_id}",
        }
        if self.kind == LimitKind.APPOINTMENTS:
            return _("%(total)s of %(limit)s appointments") % values
        if self.kind == LimitKind.AMOUNT:
            return _("%(total)s of %(limit)s in total") % values
        if self.kind == LimitKind.SERVICE_QUANTITY:
            return _("%(total)s of %(limit)s × %(service)s") % values  # noqa: RUF001
        return _("%(total)s of %(limit)s for %(service)s") % values

    @property
    def message(self) -> str:
        return _("Budget limit “%(label)s”: %(used)s used, %(proposed)s more would exceed it by %(over)s.") % {
            "label": self.label,
            "used": self._show(self.used),
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
            "proposed": plain(self.proposed),
            "exceeded_by": plain(self.exceeded_by),
            "remaining": plain(self.remaining),
            "percent_used": str(self.percent_used),
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
        """The fullest limit the proposal bears on (the first one listed among
        equals); None without limits.

        With a proposal, a limit on a service it does not book is left out: a
        used-up assessment does not turn a physiotherapy session's bar red.
        Without one (what a package has used so far), every limit counts.
        """
        if not self.limits:
            return None
        limits = self.limits
        if any(limit.proposed for limit in limits):
            limits = tuple(limit for limit in limits if limit.service_id is None or limit.proposed) or limits
        return max(limits, key=lambda limit: limit.fullness)

    @property
    def tightest_percent(self) -> Decimal | None:
        tightest = self.tightest
        return tightest.percent_used if tightest else None

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
    lines: Sequence[AppointmentLine] = (),
    appointments: int = 1,
) -> BudgetCheck:
    """Check every limit of `budget` against `used` plus the proposal.

    The proposal is `appointments` new appointments (1 for a booking, n for n
    dates at once, 0 when only the lines of an appointment already counted in
    `used` change) whose lines together are `lines`.
    """
    if appointments < 0:
        raise ValidationFailed(fields={"appointments": [_("The number of appointments cannot be negative.")]})
    used = used or BudgetUsage()
    proposed = BudgetUsage.from_lines(lines, appointments=appointments)
    checks: list[LimitCheck] = []
    if budget.max_appointments is not None:
        checks.append(LimitCheck(LimitKind.APPOINTMENTS, budget.max_appointments, used.appointments, appointments))
    if budget.max_amount is not None:
        checks.append(LimitCheck(LimitKind.AMOUNT, budget.max_amount, used.amount, proposed.amount))
    for limit in budget.services:
        before = used.services.get(limit.service_id, ServiceUsage())
        adding = proposed.services.get(limit.service_id, ServiceUsage())
        if limit.max_quantity is not None:
            checks.append(
                LimitCheck(
                    LimitKind.SERVICE_QUANTITY,
                    limit.max_quantity,
                    before.quantity,
                    adding.quantity,
                    limit.service_id,
                    limit.service_name,
                )
            )
        if limit.max_amount is not None:
            checks.append(
                LimitCheck(
                    LimitKind.SERVICE_AMOUNT,
                    limit.max_amount,
                    before.amount,
                    adding.amount,
                    limit.service_id,
                    limit.service_name,
                )
            )
    return BudgetCheck(tuple(checks))
