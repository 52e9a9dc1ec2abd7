"""The clinic form shows the service's rules (a CNPJ that does not check
out, a name already used) with its own field errors on the first submit."""

from __future__ import annotations

import pytest

from tests.conftest import login


def _data(**changes: str) -> dict[str, str]:
    data = {
        "name": "Clínica Nova", "time_zone": "America/Sao_Paulo", "currency": "BRL", "country": "BR",
        "language": "pt-br", "is_active": "on", "reminder_channels": ["sms"],
    }  # fmt: skip
    data.update(changes)
    return data


@pytest.mark.django_db
def test_an_invalid_cnpj_shows_with_a_bad_field_on_the_first_submit(alice, tenant_a) -> None:
    response = login(alice).post(
        "/settings/clinics/new/", _data(tax_id="11.222.333/0001-00", reminder_hours="-3", name=tenant_a.central.name)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) >= {"tax_id", "reminder_hours", "name"}, form.errors


@pytest.mark.django_db
def test_editing_checks_the_clinic_itself_not_a_blank_one(alice, tenant_a) -> None:
    clinic = tenant_a.central
    response = login(alice).post(
        f"/settings/clinics/{clinic.pk}/", _data(name=clinic.name, tax_id="11.222.333/0001-81")
    )
    assert response.status_code == 302, response.context["form"].errors  # its own name is no clash
