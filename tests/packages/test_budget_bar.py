"""The budget bar include (SPEC S3) scheduling will show on appointments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from packages.budget import AppointmentLine, Budget, BudgetUsage, budget_check


@pytest.mark.parametrize(("used", "level", "width"), [(5, "ok", "60.0"), (7, "warning", "80.0"), (10, "full", "100")])
def test_budget_bar_colour_and_width(used: int, level: str, width: str) -> None:
    check = budget_check(
        Budget(max_appointments=10),
        used=BudgetUsage(appointments=used),
        lines=[AppointmentLine(service_id=1, quantity=1, unit_price=Decimal("10.00"))],
    )
    html = render_to_string("packages/includes/budget_bar.html", {"check": check, "label": "Physio 10"})
    assert f'data-level="{level}"' in html
    assert f'class="level-{level}"' in html
    assert f"width: {width}%" in html
    assert "Physio 10" in html
    assert ("would exceed it by 1" in html) is (used == 10)


def test_no_limits_no_bar() -> None:
    assert render_to_string("packages/includes/budget_bar.html", {"check": budget_check(Budget())}).strip() == ""
