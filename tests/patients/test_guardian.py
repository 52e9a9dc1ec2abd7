"""The guardian rule (P2, issue 14): a minor without a guardian is flagged,
not refused; the form says "recommended", the file shows a warning."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django_scopes import scopes_disabled

from patients.models import Patient
from patients.services import clinic_today
from tests.conftest import login


def _ten_years_ago(clinic) -> str:
    today = clinic_today(clinic)
    return dt.date(today.year - 10, 1, 15).isoformat()


@pytest.mark.django_db
def test_the_form_recommends_a_guardian_rather_than_requiring_one(bob) -> None:
    content = login(bob).get("/patients/new/").content.decode()
    assert "Recommended for patients under 18" in content
    assert "Required for patients under 18" not in content


@pytest.mark.django_db
def test_a_minor_without_guardian_is_saved_and_flagged(bob, physio, tenant_a) -> None:
    client = login(bob)
    response = client.post(
        "/patients/new/",
        {"full_name": "Lia", "birth_date": _ten_years_ago(tenant_a.central), "professionals": [physio.pk]},
    )
    assert response.status_code == 302
    with scopes_disabled():
        lia = Patient.objects.get(organization=tenant_a.organization, full_name="Lia")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Patient “Lia” registered.",
        "“Lia” is under 18 and has no guardian registered. Add one in the “Responsible party” section.",
    ]
    file = client.get(f"/patients/{lia.pk}/").content.decode()
    assert 'data-testid="minor-without-guardian"' in file
    assert "Minor without a guardian" in file
    listing = client.get("/patients/?status=minor_without_guardian").content.decode()
    assert "Lia" in listing


@pytest.mark.django_db
def test_a_minor_with_a_guardian_or_an_adult_gets_no_warning(bob, physio, joao, tenant_a) -> None:
    client = login(bob)
    response = client.post(
        "/patients/new/",
        {"full_name": "Teo", "birth_date": _ten_years_ago(tenant_a.central), "guardian_name": "Rui Lima",
         "professionals": [physio.pk]},
    )  # fmt: skip
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Patient “Teo” registered."]
    with scopes_disabled():
        teo = Patient.objects.get(organization=tenant_a.organization, full_name="Teo")
    assert 'data-testid="minor-without-guardian"' not in client.get(f"/patients/{teo.pk}/").content.decode()
    assert 'data-testid="minor-without-guardian"' not in client.get(f"/patients/{joao.pk}/").content.decode()
