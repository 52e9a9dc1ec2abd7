"""How many more sessions a package's budget limits let be booked
(`sessions_that_fit`): the exact most, checked against every way of booking
one-service sessions, so "free to book" never promises a session the budget
refuses and never hides one it accepts."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from packages.catalog.budget import (
    AppointmentLine,
    Budget,
    BudgetUsage,
    ServiceLimit,
    ServiceUsage,
    budget_check,
    sessions_that_fit,
)

D = Decimal
PHYSIO, ASSESSMENT, PILATES = 1, 2, 3
SEARCH = 8  # brute force looks this far; a bound is compared up to it


def test_appointments_limit_bounds_what_is_left() -> None:
    taken = BudgetUsage(appointments=7)
    assert sessions_that_fit(Budget(max_appointments=10), taken=taken, prices={PHYSIO: D("120.00")}) == 3
    assert sessions_that_fit(Budget(max_appointments=5), taken=taken, prices={PHYSIO: D("120.00")}) == 0


def test_a_package_for_any_service_is_bounded_by_its_appointments_limit_only() -> None:
    budget = Budget(max_appointments=10, max_amount=D("100.00"))
    assert sessions_that_fit(budget, taken=BudgetUsage(appointments=2), prices={}) == 8
    assert sessions_that_fit(Budget(max_amount=D("100.00")), taken=BudgetUsage(), prices={}) is None


def test_joao_s_physio_limit_leaves_nothing_while_sessions_remain() -> None:
    # 12 sessions (10 sold, 2 by hand), a limit of 10 physiotherapy sessions, 10 taken.
    budget = Budget(services=(ServiceLimit(PHYSIO, max_quantity=10, service_name="Fisioterapia"),))
    taken = BudgetUsage(appointments=10, services={PHYSIO: ServiceUsage(10, D("1200.00"))})
    assert sessions_that_fit(budget, taken=taken, prices={PHYSIO: D("120.00")}) == 0
    # An assessment without a limit of its own could still be booked: no bound.
    assert sessions_that_fit(budget, taken=taken, prices={PHYSIO: D("120.00"), ASSESSMENT: D("180.00")}) is None


def test_an_amount_limit_is_filled_cheapest_service_first() -> None:
    budget = Budget(max_amount=D("500.00"), services=(ServiceLimit(PILATES, max_quantity=2),))
    prices = {PHYSIO: D("120.00"), PILATES: D("60.00")}
    # Two Pilates (120.00), then 380.00 leaves three physiotherapy sessions.
    assert sessions_that_fit(budget, taken=BudgetUsage(), prices=prices) == 5


def _fits(budget: Budget, taken: BudgetUsage, prices: dict[int, Decimal], counts: dict[int, int]) -> bool:
    """Whether booking counts[s] one-unit sessions of each service s passes every limit."""
    lines = [
        AppointmentLine(service_id=s, quantity=1, unit_price=prices[s]) for s, n in counts.items() for _ in range(n)
    ]
    return budget_check(budget, used=taken, lines=lines, appointments=len(lines)).ok


def _most(budget: Budget, taken: BudgetUsage, prices: dict[int, Decimal]) -> int:
    services = sorted(prices)
    best = 0
    for combination in itertools.product(range(SEARCH + 1), repeat=len(services)):
        total = sum(combination)
        if (
            total > best
            and total <= SEARCH
            and _fits(budget, taken, prices, dict(zip(services, combination, strict=True)))
        ):
            best = total
    return best


prices_strategy = st.dictionaries(
    st.sampled_from([PHYSIO, ASSESSMENT, PILATES]),
    st.sampled_from([D("0.00"), D("60.00"), D("120.00"), D("180.00")]),
    min_size=1,
    max_size=3,
)


@st.composite
def budgets_and_usage(draw: st.DrawFn) -> tuple[Budget, BudgetUsage, dict[int, Decimal]]:
    prices = draw(prices_strategy)
    limits = []
    for service in draw(st.lists(st.sampled_from([PHYSIO, ASSESSMENT, PILATES]), unique=True, max_size=3)):
        quantity = draw(st.one_of(st.none(), st.integers(1, 6)))
        amount = draw(st.one_of(st.none(), st.sampled_from([D("100.00"), D("240.00"), D("500.00")])))
        if quantity is not None or amount is not None:
            limits.append(ServiceLimit(service, max_quantity=quantity, max_amount=amount))
    budget = Budget(
        max_appointments=draw(st.one_of(st.none(), st.integers(1, 8))),
        max_amount=draw(st.one_of(st.none(), st.sampled_from([D("200.00"), D("480.00"), D("900.00")]))),
        services=tuple(limits),
    )
    taken_counts = draw(st.dictionaries(st.sampled_from(sorted(prices)), st.integers(0, 3), max_size=3))
    taken = BudgetUsage.from_lines(
        [
            AppointmentLine(service_id=s, quantity=1, unit_price=prices[s])
            for s, n in taken_counts.items()
            for _ in range(n)
        ],
        appointments=sum(taken_counts.values()),
    )
    return budget, taken, prices


@settings(max_examples=150, deadline=None)
@given(budgets_and_usage())
def test_sessions_that_fit_is_the_most_the_budget_accepts(case: tuple[Budget, BudgetUsage, dict[int, Decimal]]) -> None:
    budget, taken, prices = case
    fits = sessions_that_fit(budget, taken=taken, prices=prices)
    most = _most(budget, taken, prices)
    if fits is None:
        # No bound: the brute force reaches as far as it looks.
        assert most == SEARCH
    else:
        assert min(fits, SEARCH) == most
