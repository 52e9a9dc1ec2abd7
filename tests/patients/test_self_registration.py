from __future__ import annotations

import re

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from patients.models import Patient, SelfRegistrationLink
from tests.conftest import login

FORM = {
    "full_name": "Renata Nogueira",
    "birth_date": "1990-04-12",
    "mobile": "(11) 97777-1234",
    "email": "renata@example.com",
    "document": "",
    "city": "São Paulo",
}


def _generate(client) -> str:
    response = client.post("/patients/settings/self-registration/", {"action": "generate"})
    assert response.status_code == 302
    content = client.get("/patients/settings/self-registration/").content.decode()
    return re.search(r"http://testserver(/register/[\w-]+/)", content).group(1)


def _self_registered(organization) -> list[Patient]:
    with scopes_disabled():
        return list(Patient.objects.filter(organization=organization, self_registered=True))


@pytest.mark.django_db
def test_self_registration_end_to_end(alice, bob, physio, tenant_a) -> None:
    url = _generate(login(alice))
    visitor = Client()
    page = visitor.get(url)
    assert page.status_code == 200
    assert page["Content-Language"] == "pt-br"  # the clinic's language
    assert "Cadastro de paciente" in page.content.decode()
    response = visitor.post(url, FORM)
    assert response.status_code == 302
    assert response["Location"] == f"{url}done/"
    assert visitor.get(response["Location"]).status_code == 200

    [patient] = _self_registered(tenant_a.organization)
    assert (patient.full_name, patient.mobile, patient.clinic, patient.needs_review) == (
        "Renata Nogueira",
        "+5511977771234",
        tenant_a.central,
        True,
    )
    with scopes_disabled():
        assert list(patient.professionals.all()) == []

    # Staff see it flagged in the list and confirm it, assigning a professional.
    staff = login(bob)
    listing = staff.get("/patients/?status=to_review").content.decode()
    assert "Renata Nogueira" in listing
    assert "Self-registered, to review" in listing
    response = staff.post(f"/patients/{patient.pk}/review/", {"professionals": [physio.pk]})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.needs_review is False
    with scopes_disabled():
        assert list(patient.professionals.all()) == [physio]


@pytest.mark.django_db
def test_public_form_shows_field_errors(alice, tenant_a) -> None:
    url = _generate(login(alice))
    # Errors render in the clinic's language, next to their fields.
    # The field's error and the service's (the phone number) on the same submit.
    response = Client().post(url, {**FORM, "email": "bad", "mobile": "999", "document": "123.456.789-00"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"document", "email", "mobile"}
    content = response.content.decode()
    assert "Informe um e-mail válido." in content
    assert "“999” não é um número de telefone válido." in content
    assert _self_registered(tenant_a.organization) == []


@pytest.mark.django_db
def test_public_form_errors_reveal_nothing_about_a_known_document(alice, joao, tenant_a) -> None:
    """The service's check runs on a form with errors too: a document on file
    must still answer exactly as an unknown one."""
    url = _generate(login(alice))
    fresh = Client().post(url, {**FORM, "email": "bad", "document": "529.982.247-25"})
    known = Client().post(url, {**FORM, "email": "bad", "document": "123.456.789-09"})
    assert set(fresh.context["form"].errors) == set(known.context["form"].errors) == {"email"}
    assert "Informe um e-mail válido." in known.content.decode()
    assert "já" not in known.content.decode().split('data-testid="self-registration-form"')[1]
    assert _self_registered(tenant_a.organization) == []


@pytest.mark.django_db
def test_known_document_gets_the_same_answer_and_reveals_nothing(alice, joao, tenant_a) -> None:
    url = _generate(login(alice))
    fresh = Client().post(url, {**FORM, "document": "529.982.247-25"})
    known = Client().post(url, {**FORM, "full_name": "Impostor", "document": "123.456.789-09"})
    assert (fresh.status_code, fresh["Location"]) == (known.status_code, known["Location"])
    impostor = next(p for p in _self_registered(tenant_a.organization) if p.full_name == "Impostor")
    assert impostor.document == ""
    # The note is for the clinic's staff, in the clinic's language.
    assert impostor.review_note == "O número de documento 123.456.789-09 informado já está cadastrado."
    joao.refresh_from_db()
    assert joao.full_name == "João Conceição"


@pytest.mark.django_db
def test_revoked_and_regenerated_links(alice, tenant_a) -> None:
    owner = login(alice)
    old = _generate(owner)
    new = _generate(owner)
    assert old != new
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    owner.post("/patients/settings/self-registration/", {"action": "revoke"})
    assert Client().get(new).status_code == 404
    assert Client().post(new, FORM).status_code == 404
    with scopes_disabled():
        assert SelfRegistrationLink.objects.filter(clinic=tenant_a.central, revoked_at__isnull=True).count() == 0
    assert _self_registered(tenant_a.organization) == []


@pytest.mark.django_db
def test_unknown_token_is_404() -> None:
    assert Client().get("/register/not-a-token/").status_code == 404


@pytest.mark.django_db
def test_public_form_is_rate_limited_per_ip(alice, tenant_a) -> None:
    url = _generate(login(alice))
    visitor = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(10):
        assert visitor.post(url, {**FORM, "full_name": f"Pessoa {n}"}).status_code == 302
    blocked = visitor.post(url, {**FORM, "full_name": "Pessoa 11"})
    assert blocked.status_code == 429
    assert len(_self_registered(tenant_a.organization)) == 10
    # Another address is not affected.
    assert Client(REMOTE_ADDR="203.0.113.10").post(url, {**FORM, "full_name": "Outra"}).status_code == 302


@pytest.mark.django_db
def test_only_owners_and_managers_manage_the_link(bob, paula) -> None:
    assert login(bob).get("/patients/settings/self-registration/").status_code == 403
    assert login(paula).post("/patients/settings/self-registration/", {"action": "generate"}).status_code == 403


@pytest.mark.django_db
def test_each_clinic_has_its_own_link_and_language(alice, tenant_a) -> None:
    owner = login(alice)
    central_url = _generate(owner)
    tenant_a.branch.language = "de"
    tenant_a.branch.save()
    owner.post("/clinic/switch/", {"clinic": tenant_a.branch.pk})
    branch_url = _generate(owner)
    assert Client().get(central_url).status_code == 200
    page = Client().get(branch_url)
    assert page["Content-Language"] == "de"
    assert "Patientenregistrierung" in page.content.decode()
    Client().post(branch_url, FORM)
    [patient] = _self_registered(tenant_a.organization)
    assert patient.clinic == tenant_a.branch


@pytest.mark.django_db
def test_public_form_explains_the_phone_without_jargon(alice, tenant_a) -> None:
    content = Client().get(_generate(login(alice))).content.decode()
    assert "E.164" not in content
    assert "(11) 96123-4567" in content  # an example the clinic's patients recognise
