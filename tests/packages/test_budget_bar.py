"""The budget bar include (SPEC S3) scheduling will show on appointments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from packages.catalog.budget import AppointmentLine, Budget, BudgetUsage, ServiceLimit, ServiceUsage, budget_check


@pytest.mark.parametrize(
    ("used", "level", "used_width", "booked_width"),
    [
        (5, "ok", "50.0", "10.0"),
        (7, "ok", "70.0", "10.0"),
        (8, "warning", "80.0", "10.0"),
        (10, "full", "100.0", "0.0"),
    ],
)
def test_budget_bar_colour_and_segments(used: int, level: str, used_width: str, booked_width: str) -> None:
    check = budget_check(
        Budget(max_appointments=10),
        used=BudgetUsage(appointments=used),
        lines=[AppointmentLine(service_id=1, quantity=1, unit_price=Decimal("10.00"))],
    )
    html = render_to_string("packages/includes/budget_bar.html", {"check": check, "label": "Physio 10"})
    # The colour says how much is used; the booking being typed is a booked segment.
    assert f'data-level="{level}"' in html
    assert f'class="level-{level}"' in html
    assert f'style="width: {used_width}%" data-testid="budget-used"' in html
    assert f'style="width: {booked_width}%" data-testid="budget-booked"' in html
    assert "Physio 10" in html
    assert ("would exceed it by 1" in html) is (used == 10)
    assert f"{used + 1} of 10 appointments" in html
    assert f"{used} used" in html


def test_a_fully_booked_package_is_not_red() -> None:
    check = budget_check(Budget(max_appointments=10), booked=BudgetUsage(appointments=10), appointments=0)
    html = render_to_string("packages/includes/budget_bar.html", {"check": check})
    assert 'data-level="ok"' in html
    assert 'style="width: 0.0%" data-testid="budget-used"' in html
    assert 'style="width: 100.0%" data-testid="budget-booked"' in html
    assert "10 booked" in html
    assert "nothing more can be booked" in html


@pytest.mark.parametrize(
    ("budget", "used", "summary"),
    [
        (Budget(max_amount=Decimal("900.00")), BudgetUsage(amount=Decimal("780.00")), "780.00 of 900.00 in total"),
        (
            Budget(services=(ServiceLimit(service_id=1, max_quantity=1, service_name="Assessment"),)),
            BudgetUsage(services={1: ServiceUsage(quantity=1)}),
            "1 of 1 × Assessment",  # noqa: RUF001
        ),
        (
            Budget(services=(ServiceLimit(service_id=1, max_amount=Decimal("500"), service_name="Physio"),)),
            BudgetUsage(services={1: ServiceUsage(amount=Decimal("120"))}),
            "120.00 of 500.00 for Physio",
        ),
    ],
)
def test_the_bar_says_how_much_of_its_tightest_limit_is_used(budget, used, summary) -> None:
    html = render_to_string(
        "packages/includes/budget_bar.html", {"check": budget_check(budget, used=used, appointments=0)}
    )
    assert f'data-testid="budget-summary">{summary}<' in html


def test_no_limits_no_bar() -> None:
    assert render_to_string("packages/includes/budget_bar.html", {"check": budget_check(Budget())}).strip() == ""
