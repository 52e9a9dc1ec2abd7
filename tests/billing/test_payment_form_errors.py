"""The payment form shows the service's refusal with its own errors on the
first submit (issue 14)."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from billing.models import Payment
from tests.billing.test_pages import two_sessions  # noqa: F401  (fixture)
from tests.conftest import login


@pytest.mark.django_db
def test_nothing_received_shows_with_a_too_long_note(bob, patient, two_sessions) -> None:  # noqa: F811
    response = login(bob).post(
        "/finance/pay/",
        {"receivables": [two_sessions[0].pk], "method": "cash", "amount": "0", "payer": "patient", "note": "x" * 301},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["amount"] == ["Enter the amount received."]
    assert set(errors) == {"amount", "note"}
    with scopes_disabled():
        assert not Payment.objects.exists()
