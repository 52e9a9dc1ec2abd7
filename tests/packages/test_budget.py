"""The budget selector (S3): a pure function scheduling will call with a
package's limits, its booked appointments and a proposed booking."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from clinic.errors import ValidationFailed
from packages.catalog.budget import (
    AppointmentLine,
    Budget,
    BudgetUsage,
    Level,
    LimitKind,
    ServiceLimit,
    ServiceUsage,
    budget_check,
)
from packages.catalog.errors import BudgetExceeded

D = Decimal
PHYSIO, ASSESSMENT, MASSAGE = 1, 2, 3


def line(service: int = PHYSIO, quantity: int = 1, price: str = "100.00") -> AppointmentLine:
    return AppointmentLine(service_id=service, quantity=quantity, unit_price=D(price))


def test_no_limits_means_nothing_to_check() -> None:
    check = budget_check(Budget(), lines=[line(quantity=50)])
    assert check.limits == ()
    assert check.ok
    assert check.tightest is None
    assert check.tightest_percent is None
    assert check.level is None
    check.raise_if_exceeded()


def test_max_appointments_within_and_at_the_limit() -> None:
    budget = Budget(max_appointments=10)
    check = budget_check(budget, used=BudgetUsage(appointments=8), lines=[line()])
    (limit,) = check.limits
    assert (limit.kind, limit.limit, limit.used, limit.proposed, limit.total) == (LimitKind.APPOINTMENTS, 10, 8, 1, 9)
    assert (limit.exceeded, limit.exceeded_by, limit.remaining) == (False, 0, 1)
    assert (limit.percent_used, limit.percent_booked, limit.percent_total) == (D("80.0"), D("10.0"), D("90.0"))
    assert limit.level == Level.WARNING  # 8 of 10 used
    at_limit = budget_check(budget, used=BudgetUsage(appointments=9), lines=[line()])
    assert at_limit.ok
    assert at_limit.tightest_percent == D("100.0")
    # Nothing more fits, but only 9 of 10 are used: amber, not red.
    assert at_limit.tightest.is_full
    assert at_limit.level == Level.WARNING


def test_max_appointments_exceeded_by_one() -> None:
    check = budget_check(Budget(max_appointments=10), used=BudgetUsage(appointments=10), lines=[line()])
    assert not check.ok
    (limit,) = check.exceeded
    assert (limit.kind, limit.exceeded_by, limit.remaining, limit.percent_total) == (
        LimitKind.APPOINTMENTS,
        1,
        0,
        D("110.0"),
    )
    with pytest.raises(BudgetExceeded) as error:
        check.raise_if_exceeded()
    assert error.value.code == "budget_exceeded"
    assert error.value.status == 400
    assert error.value.detail == (
        "Budget limit “at most 10 appointments”: 10 already used or booked, 1 more would exceed it by 1."
    )
    assert error.value.fields == {"budget": [error.value.detail]}


def test_many_dates_at_once_count_as_many_appointments() -> None:
    check = budget_check(
        Budget(max_appointments=10), used=BudgetUsage(appointments=4), lines=[line(quantity=7)], appointments=7
    )
    (limit,) = check.exceeded
    assert (limit.proposed, limit.exceeded_by) == (7, 1)


def test_editing_an_appointment_already_counted_adds_no_appointment() -> None:
    check = budget_check(Budget(max_appointments=10), used=BudgetUsage(appointments=10), lines=[line()], appointments=0)
    assert check.ok
    assert check.limits[0].percent_used == D("100.0")


def test_max_amount_in_money() -> None:
    budget = Budget(max_amount=D("1500.00"))
    used = BudgetUsage(appointments=12, amount=D("1440.00"))
    ok = budget_check(budget, used=used, lines=[line(price="60.00")])
    assert ok.ok
    assert ok.limits[0].remaining == D("0.00")
    over = budget_check(budget, used=used, lines=[line(price="60.01")])
    (limit,) = over.exceeded
    assert (limit.kind, limit.used, limit.proposed, limit.exceeded_by) == (
        LimitKind.AMOUNT,
        D("1440.00"),
        D("60.01"),
        D("0.01"),
    )
    assert (
        limit.message == "Budget limit “at most 1,500.00 in total”: 1,440.00 already used or booked, "
        "60.01 more would exceed it by 0.01."
    )


def test_lines_are_quantity_times_unit_price() -> None:
    check = budget_check(Budget(max_amount=D("1000.00")), lines=[line(quantity=3, price="333.34")])
    (limit,) = check.limits
    assert limit.proposed == D("1000.02")
    assert limit.exceeded_by == D("0.02")


def test_per_service_quantity_counts_only_that_service() -> None:
    budget = Budget(services=(ServiceLimit(service_id=ASSESSMENT, max_quantity=1, service_name="Assessment"),))
    used = BudgetUsage(appointments=3, amount=D("300.00"), services={PHYSIO: ServiceUsage(3, D("300.00"))})
    fine = budget_check(budget, used=used, lines=[line(PHYSIO, 2), line(ASSESSMENT, 1)])
    assert fine.ok
    (limit,) = fine.limits
    assert (limit.kind, limit.service_id, limit.used, limit.proposed, limit.percent_total) == (
        LimitKind.SERVICE_QUANTITY,
        ASSESSMENT,
        0,
        1,
        D("100.0"),
    )
    second = budget_check(
        budget, used=BudgetUsage(services={ASSESSMENT: ServiceUsage(1, D("180.00"))}), lines=[line(ASSESSMENT)]
    )
    (limit,) = second.exceeded
    assert (
        limit.message == "Budget limit “at most 1 \N{MULTIPLICATION SIGN} Assessment”: 1 already used or booked, "
        "1 more would exceed it by 1."
    )


def test_per_service_amount() -> None:
    budget = Budget(services=(ServiceLimit(service_id=MASSAGE, max_amount=D("500.00"), service_name="Massage"),))
    used = BudgetUsage(services={MASSAGE: ServiceUsage(4, D("440.00"))})
    check = budget_check(budget, used=used, lines=[line(MASSAGE, 1, "110.00"), line(PHYSIO, 5, "100.00")])
    (limit,) = check.exceeded
    assert (limit.kind, limit.service_id, limit.proposed, limit.exceeded_by) == (
        LimitKind.SERVICE_AMOUNT,
        MASSAGE,
        D("110.00"),
        D("50.00"),
    )
    assert limit.label == "at most 500.00 for Massage"


def test_every_limit_at_once_reports_each_in_order() -> None:
    budget = Budget(
        max_appointments=10,
        max_amount=D("1000.00"),
        services=(
            ServiceLimit(service_id=PHYSIO, max_quantity=8, max_amount=D("800.00"), service_name="Physio"),
            ServiceLimit(service_id=ASSESSMENT, max_quantity=1, service_name="Assessment"),
        ),
    )
    used = BudgetUsage.from_lines([line(PHYSIO, 6, "100.00"), line(ASSESSMENT, 1, "150.00")], appointments=7)
    assert (used.appointments, used.amount) == (7, D("750.00"))
    check = budget_check(budget, used=used, lines=[line(PHYSIO, 2, "100.00")])
    assert [(c.kind, c.service_id, c.total, c.exceeded) for c in check.limits] == [
        (LimitKind.APPOINTMENTS, None, 8, False),
        (LimitKind.AMOUNT, None, D("950.00"), False),
        (LimitKind.SERVICE_QUANTITY, PHYSIO, 8, False),
        (LimitKind.SERVICE_AMOUNT, PHYSIO, D("800.00"), False),
        (LimitKind.SERVICE_QUANTITY, ASSESSMENT, 1, False),
    ]
    assert check.ok
    # Physio quantity and amount and the assessment are full; the first full one is the tightest,
    # amber: 6 of its 8 are used, the other 2 are this booking.
    assert (check.tightest.kind, check.tightest_percent, check.level) == (
        LimitKind.SERVICE_QUANTITY,
        D("100.0"),
        Level.WARNING,
    )

    over = budget_check(budget, used=used, lines=[line(PHYSIO, 3, "100.00"), line(ASSESSMENT, 1, "150.00")])
    assert [(c.kind, c.service_id, c.exceeded_by) for c in over.exceeded] == [
        (LimitKind.AMOUNT, None, D("200.00")),
        (LimitKind.SERVICE_QUANTITY, PHYSIO, 1),
        (LimitKind.SERVICE_AMOUNT, PHYSIO, D("100.00")),
        (LimitKind.SERVICE_QUANTITY, ASSESSMENT, 1),
    ]
    with pytest.raises(BudgetExceeded) as error:
        over.raise_if_exceeded()
    assert len(error.value.fields["budget"]) == 4
    assert error.value.detail.startswith("Budget limit “at most 1,000.00 in total”")


def test_the_bar_follows_the_limits_the_booking_bears_on() -> None:
    budget = Budget(
        max_amount=D("900.00"),
        services=(ServiceLimit(service_id=ASSESSMENT, max_quantity=1, service_name="Assessment"),),
    )
    used = BudgetUsage.from_lines([line(ASSESSMENT, 1, "180.00"), line(PHYSIO, 4, "120.00")], appointments=5)
    # What the package has used: the assessment is used up.
    so_far = budget_check(budget, used=used, appointments=0)
    assert (so_far.tightest.kind, so_far.level) == (LimitKind.SERVICE_QUANTITY, Level.FULL)
    # A physiotherapy session does not book an assessment: its bar is the amount's.
    session = budget_check(budget, used=used, lines=[line(PHYSIO, 1, "120.00")])
    assert (session.tightest.kind, session.tightest_percent, session.level) == (
        LimitKind.AMOUNT,
        D("86.6"),  # 780.00 of 900.00, rounded down: never "100 %" before it is
        Level.OK,  # 660.00 used (73.3 %); the session itself is a booking
    )
    # A second assessment does, and is refused.
    assessment = budget_check(budget, used=used, lines=[line(ASSESSMENT, 1, "180.00")])
    assert (assessment.tightest.kind, assessment.level, assessment.ok) == (
        LimitKind.SERVICE_QUANTITY,
        Level.FULL,
        False,
    )


def test_tightest_percent_picks_the_fullest_limit() -> None:
    budget = Budget(max_appointments=10, max_amount=D("1000.00"))
    check = budget_check(budget, used=BudgetUsage(appointments=2, amount=D("700.00")), lines=[line(price="50.00")])
    assert [c.percent_total for c in check.limits] == [D("30.0"), D("75.0")]
    assert [c.percent_used for c in check.limits] == [D("20.0"), D("70.0")]
    assert check.tightest.kind == LimitKind.AMOUNT
    assert check.tightest_percent == D("75.0")
    assert check.level == Level.OK


@pytest.mark.parametrize(
    ("used", "level"),
    [(0, Level.OK), (74, Level.OK), (75, Level.WARNING), (99, Level.WARNING), (100, Level.FULL), (150, Level.FULL)],
)
def test_bar_levels_green_below_75_amber_below_100_red_at_100(used: int, level: Level) -> None:
    check = budget_check(Budget(max_appointments=100), used=BudgetUsage(appointments=used), appointments=0)
    assert check.level == level


def test_booked_sessions_fill_the_bar_but_do_not_colour_it() -> None:
    # Ten sessions linked with their ten dates, none attended yet.
    check = budget_check(Budget(max_appointments=10), booked=BudgetUsage(appointments=10), appointments=0)
    (limit,) = check.limits
    assert (limit.used, limit.booked, limit.percent_used, limit.percent_booked) == (0, 10, D("0.0"), D("100.0"))
    assert (check.tightest_percent, check.level, limit.is_full) == (D("100.0"), Level.OK, True)
    assert (limit.used_label, limit.booked_label, limit.summary) == ("0 used", "10 booked", "10 of 10 appointments")
    eleventh = budget_check(Budget(max_appointments=10), booked=BudgetUsage(appointments=10), lines=[line()])
    assert (
        eleventh.exceeded[0].message
        == "Budget limit “at most 10 appointments”: 10 already used or booked, 1 more would exceed it by 1."
    )


def test_amber_starts_exactly_at_75_percent_even_when_the_rounded_percent_says_otherwise() -> None:
    def used(amount: str) -> BudgetUsage:
        return BudgetUsage(amount=D(amount))

    below = budget_check(Budget(max_amount=D("3.00")), used=used("2.24"), appointments=0)
    assert (below.tightest_percent, below.level) == (D("74.6"), Level.OK)
    at = budget_check(Budget(max_amount=D("4.00")), used=used("3.00"), appointments=0)
    assert (at.tightest_percent, at.level) == (D("75.0"), Level.WARNING)
    almost = budget_check(Budget(max_amount=D("1000.00")), used=used("999.99"), appointments=0)
    assert (almost.tightest_percent, almost.level) == (D("99.9"), Level.WARNING)


def test_a_limit_already_past_its_value_blocks_only_what_adds_to_it() -> None:
    # The template's limit was lowered after the package consumed more.
    budget = Budget(max_appointments=5, services=(ServiceLimit(service_id=ASSESSMENT, max_quantity=1),))
    used = BudgetUsage(appointments=4, services={ASSESSMENT: ServiceUsage(2, D("300.00"))})
    physio_only = budget_check(budget, used=used, lines=[line(PHYSIO)])
    assert physio_only.ok
    assert physio_only.limits[1].percent_used == D("200.0")
    assert physio_only.limits[1].exceeded_by == 0
    another_assessment = budget_check(budget, used=used, lines=[line(ASSESSMENT)])
    (limit,) = another_assessment.exceeded
    assert limit.exceeded_by == 2  # would end at 3 of 1


def test_as_dict_is_json_ready_with_decimal_strings() -> None:
    budget = Budget(
        max_appointments=4, max_amount=D("400.00"), services=(ServiceLimit(PHYSIO, max_amount=D("300.00")),)
    )
    check = budget_check(
        budget,
        used=BudgetUsage(appointments=3, amount=D("300.00"), services={PHYSIO: ServiceUsage(3, D("300.00"))}),
        lines=[line()],
    )
    data = check.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "ok": False,
        "tightest_percent": "133.3",
        "level": "full",
        "limits": [
            {
                "kind": "appointments",
                "service": None,
                "limit": 4,
                "used": 3,
                "booked": 0,
                "proposed": 1,
                "exceeded_by": 0,
                "remaining": 0,
                "percent_used": "75.0",
                "percent_booked": "25.0",
                "exceeded": False,
                "level": "warning",
            },
            {
                "kind": "amount",
                "service": None,
                "limit": "400.00",
                "used": "300.00",
                "booked": "0.00",
                "proposed": "100.00",
                "exceeded_by": "0.00",
                "remaining": "0.00",
                "percent_used": "75.0",
                "percent_booked": "25.0",
                "exceeded": False,
                "level": "warning",
            },
            {
                "kind": "service_amount",
                "service": PHYSIO,
                "limit": "300.00",
                "used": "300.00",
                "booked": "0.00",
                "proposed": "100.00",
                "exceeded_by": "100.00",
                "remaining": "0.00",
                "percent_used": "100.0",
                "percent_booked": "33.3",
                "exceeded": True,
                "level": "full",
            },
        ],
    }


def test_budget_round_trips_through_a_dict() -> None:
    budget = Budget(
        max_appointments=10,
        max_amount=D("1500.00"),
        services=(
            ServiceLimit(PHYSIO, max_quantity=8, service_name="Physio"),
            ServiceLimit(ASSESSMENT, max_amount=D("180.00")),
        ),
    )
    data = budget.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert Budget.from_dict(data) == budget


@pytest.mark.parametrize(
    "budget_args",
    [
        {"max_appointments": 0},
        {"max_amount": D("0.00")},
        {"max_amount": D("-1.00")},
        {"services": (ServiceLimit(PHYSIO, max_quantity=0),)},
        {"services": (ServiceLimit(PHYSIO, max_quantity=1), ServiceLimit(PHYSIO, max_amount=D("1.00")))},
    ],
)
def test_invalid_budgets_are_refused(budget_args) -> None:
    with pytest.raises(ValidationFailed):
        Budget(**budget_args)


def test_invalid_proposals_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        line(quantity=-1)
    with pytest.raises(ValidationFailed):
        line(price="-5.00")
    with pytest.raises(ValidationFailed):
        budget_check(Budget(max_appointments=1), appointments=-1)
