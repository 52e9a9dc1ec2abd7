"""`template_terms_snapshot`: what a package copies when it is linked (X4)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from clinic.errors import NotFound
from packages.catalog import selectors, services
from packages.catalog.budget import AppointmentLine, Budget, budget_check
from packages.catalog.models import CommissionKind, Posting, Renewal
from tests.packages.factories import ServiceLimitFactory, add_own_item, make_template


@pytest.fixture
def assessment_6(tenant_a, catalog):
    from tests.packages.factories import ServiceFactory

    assessment = ServiceFactory(
        clinic=tenant_a.central, name="Assessment", code="AVA", price=Decimal("180.00"), is_shared=True
    )
    template = make_template(
        tenant_a.central,
        [(assessment, 1), (catalog.physio, 6)],
        name="Assessment + 6",
        price=Decimal("800.00"),
        validity_days=60,
        renewal=Renewal.NONE,
        posting=Posting.TOTAL,
        commission_kind=CommissionKind.PERCENT,
        commission_value=Decimal("30.00"),
        trigger_service=assessment,
        max_amount=Decimal("900.00"),
        is_shared=True,
    )
    ServiceLimitFactory(template=template, service=assessment, max_quantity=1, max_amount=None)
    return template, assessment


@pytest.mark.django_db
def test_snapshot_is_plain_json_with_everything_a_package_copies(in_scope_of, tenant_a, catalog, assessment_6) -> None:
    template, assessment = assessment_6
    with in_scope_of(tenant_a.organization):
        snapshot = selectors.template_terms_snapshot(template, tenant_a.central)
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot == {
        "template": template.pk,
        "name": "Assessment + 6",
        "clinic": tenant_a.central.pk,
        "sessions": 7,
        "price": "800.00",
        "price_per_session": "114.28",
        "last_session_price": "114.32",
        "items": [
            {
                "service": assessment.pk,
                "service_name": "Assessment",
                "service_code": "AVA",
                "quantity": 1,
                "unit_price": "180.00",
                "clinic": tenant_a.central.pk,
            },
            {
                "service": catalog.physio.pk,
                "service_name": "Physiotherapy session",
                "service_code": "FIS-SES",
                "quantity": 6,
                "unit_price": "120.00",
                "clinic": tenant_a.central.pk,
            },
        ],
        "limits": {
            "max_appointments": None,
            "max_amount": "900.00",
            "services": [
                {"service": assessment.pk, "service_name": "Assessment", "max_quantity": 1, "max_amount": None}
            ],
        },
        "posting": "total",
        "renewal": "none",
        "validity_days": 60,
        "commission_kind": "percent",
        "commission_value": "30.00",
        "trigger_service": assessment.pk,
    }


@pytest.mark.django_db
def test_snapshot_is_taken_for_the_clinic_that_links(in_scope_of, tenant_a, catalog) -> None:
    add_own_item(catalog.physio_10, tenant_a.branch, catalog.kinesio, 2)
    with in_scope_of(tenant_a.organization):
        branch = selectors.template_terms_snapshot(catalog.physio_10, tenant_a.branch)
        central = selectors.template_terms_snapshot(catalog.physio_10, tenant_a.central)
    assert (branch["sessions"], branch["price_per_session"], branch["last_session_price"]) == (12, "83.33", "83.37")
    assert [item["service_name"] for item in branch["items"]] == ["Physiotherapy session", "Kinesio taping"]
    assert (central["sessions"], [item["service_name"] for item in central["items"]]) == (
        10,
        ["Physiotherapy session"],
    )


@pytest.mark.django_db
def test_snapshot_of_a_template_the_clinic_does_not_see_is_not_found(in_scope_of, tenant_a, catalog) -> None:
    with in_scope_of(tenant_a.organization), pytest.raises(NotFound):
        selectors.template_terms_snapshot(catalog.home_5, tenant_a.branch)


@pytest.mark.django_db
def test_editing_the_template_does_not_change_a_snapshot_taken_before(
    in_scope_of, tenant_a, catalog, assessment_6
) -> None:
    template, _assessment = assessment_6
    with in_scope_of(tenant_a.organization):
        before = selectors.template_terms_snapshot(template, tenant_a.central)
        frozen = json.dumps(before, sort_keys=True)
        data = services.template_input_from(template)
        services.package_template_update(
            template=template,
            clinic=tenant_a.central,
            data=data.__class__(**{**data.__dict__, "price": Decimal("950.00"), "validity_days": 90}),
        )
        after = selectors.template_terms_snapshot(template, tenant_a.central)
    assert json.dumps(before, sort_keys=True) == frozen
    assert (before["price"], after["price"]) == ("800.00", "950.00")
    assert (before["validity_days"], after["validity_days"]) == (60, 90)


@pytest.mark.django_db
def test_the_snapshots_limits_feed_the_budget_selector(in_scope_of, tenant_a, catalog, assessment_6) -> None:
    template, assessment = assessment_6
    with in_scope_of(tenant_a.organization):
        snapshot = selectors.template_terms_snapshot(template, tenant_a.central)
        assert Budget.from_dict(snapshot["limits"]) == selectors.budget_for_template(
            selectors.template_for_clinic(clinic=tenant_a.central, template_id=template.pk)
        )
    check = budget_check(
        Budget.from_dict(snapshot["limits"]),
        lines=[AppointmentLine(service_id=assessment.pk, quantity=2, unit_price=Decimal("180.00"))],
    )
    assert [(limit.kind, limit.exceeded_by) for limit in check.exceeded] == [("service_quantity", 1)]
