"""The link form shows the ledger's refusals with its own errors on the
first submit (issue 14)."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from packages.patient_packages.models import PatientPackage
from tests.conftest import login
from tests.ledger.test_pages import _link_data


@pytest.mark.django_db
def test_link_form_shows_a_bad_date_a_missing_total_and_a_bad_mobile_together(bob, patient) -> None:
    response = login(bob).post(
        f"/patients/{patient.pk}/packages/link/",
        _link_data(sessions="10", total_price="", paid_at="31/31/2026", mobile="abc"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors == {
        "paid_at": ["Enter a valid date."],
        "total_price": ["Enter the total paid."],
        "mobile": ["“abc” is not a valid phone number."],
    }
    with scopes_disabled():
        assert not PatientPackage.objects.filter(patient=patient).exists()
