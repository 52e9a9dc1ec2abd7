from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from patients.models import Patient
from tests.conftest import api_client, login
from tests.patients.factories import PatientFactory


def _patients(organization) -> list[Patient]:
    with scopes_disabled():
        return list(Patient.objects.filter(organization=organization).prefetch_related("professionals"))


@pytest.mark.django_db
def test_api_registers_a_patient_with_only_name_and_professional(bob, physio, tenant_a) -> None:
    response = api_client(bob).post("/api/v1/patients/", {"full_name": " Ana Luíza ", "professionals": [physio.pk]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["full_name"], body["professionals"], body["clinic"], body["is_active"]) == (
        "Ana Luíza",
        [physio.pk],
        tenant_a.central.pk,
        True,
    )
    assert body["guardian"] == {
        "name": "",
        "relationship": "",
        "document": "",
        "email": "",
        "mobile": "",
        "send_charges_email": False,
        "send_charges_whatsapp": False,
        "send_documents_email": False,
        "send_documents_whatsapp": False,
    }


@pytest.mark.django_db
def test_api_required_fields(bob, physio) -> None:
    response = api_client(bob).post("/api/v1/patients/", {"full_name": "", "professionals": []})
    assert response.status_code == 400
    assert response.json()["fields"] == {  # every error at once
        "full_name": ["This field may not be blank."],
        "professionals": ["Choose at least one responsible professional."],
    }
    response = api_client(bob).post("/api/v1/patients/", {"full_name": "Ana"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "detail": "Some fields are not valid.",
        "fields": {"professionals": ["Choose at least one responsible professional."]},
    }


@pytest.mark.django_db
def test_api_validation_errors_are_per_field_and_write_nothing(bob, physio, tenant_a) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=2)
    response = api_client(bob).post(
        "/api/v1/patients/",
        {
            "full_name": "Ana",
            "professionals": [physio.pk],
            "email": "not-an-email",
            "birth_date": tomorrow.isoformat(),
            "mobile": "12345",
        },
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["Enter a valid email address."]}
    response = api_client(bob).post(
        "/api/v1/patients/",
        {"full_name": "Ana", "professionals": [physio.pk], "birth_date": tomorrow.isoformat(), "mobile": "12345"},
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "mobile": ["“12345” is not a valid phone number."],
        "birth_date": ["The birth date cannot be in the future."],
    }
    assert _patients(tenant_a.organization) == []


@pytest.mark.django_db
def test_duplicate_document_is_refused_in_the_organization_only(bob, charlie, joao, physio, foreign_professional):
    response = api_client(bob).post(
        "/api/v1/patients/", {"full_name": "Outro", "professionals": [physio.pk], "document": "12345678909"}
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "document": ["Another patient of this organization already has this document number."]
    }
    # The same number in another organization is someone else's business.
    response = api_client(charlie).post(
        "/api/v1/patients/",
        {"full_name": "Homônimo", "professionals": [foreign_professional.pk], "document": "123.456.789-09"},
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_mobile_is_stored_in_e164(bob, physio, tenant_a) -> None:
    response = api_client(bob).post(
        "/api/v1/patients/",
        {
            "full_name": "Ana",
            "professionals": [physio.pk],
            "mobile": "(11) 98765-4321",
            "guardian": {"mobile": "+351 912 345 678"},
        },
    )
    assert response.status_code == 201
    assert response.json()["mobile"] == "+5511987654321"
    assert response.json()["guardian"]["mobile"] == "+351912345678"


@pytest.mark.django_db
def test_foreign_professional_is_an_invalid_id_that_leaks_nothing(bob, foreign_professional) -> None:
    response = api_client(bob).post(
        "/api/v1/patients/", {"full_name": "Ana", "professionals": [foreign_professional.pk]}
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "professionals": [f'Invalid pk "{foreign_professional.pk}" - object does not exist.']
    }


@pytest.mark.django_db
def test_guardian_switches_and_minor_flag(bob, physio) -> None:
    ten_years_ago = timezone.localdate().replace(year=timezone.localdate().year - 10)
    client = api_client(bob)
    response = client.post(
        "/api/v1/patients/", {"full_name": "Pedrinho", "professionals": [physio.pk], "birth_date": str(ten_years_ago)}
    )
    body = response.json()
    assert (body["is_minor"], body["minor_without_guardian"]) == (True, True)
    response = client.patch(
        f"/api/v1/patients/{body['id']}/",
        {
            "guardian": {
                "name": "Maria Souza",
                "relationship": "Mãe",
                "send_charges_email": True,
                "send_documents_whatsapp": True,
            }
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["is_minor"], body["minor_without_guardian"]) == (True, False)
    assert {k: v for k, v in body["guardian"].items() if k.startswith("send_")} == {
        "send_charges_email": True,
        "send_charges_whatsapp": False,
        "send_documents_email": False,
        "send_documents_whatsapp": True,
    }


@pytest.mark.django_db
def test_form_registers_a_patient_with_a_guardian(bob, physio, tenant_a) -> None:
    response = login(bob).post(
        "/patients/new/",
        {
            "full_name": "Lívia Araújo",
            "professionals": [physio.pk],
            "birth_date": "2017-03-02",
            "mobile": "11 91234-5678",
            "guardian_name": "Paulo Araújo",
            "guardian_relationship": "Pai",
            "guardian_send_charges_whatsapp": "on",
            "notes": "Prefere horários à tarde.",
        },
    )
    [patient] = _patients(tenant_a.organization)
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert (patient.full_name, patient.mobile, patient.guardian_name, patient.notes) == (
        "Lívia Araújo",
        "+5511912345678",
        "Paulo Araújo",
        "Prefere horários à tarde.",
    )
    assert (patient.guardian_send_charges_whatsapp, patient.guardian_send_charges_email) == (True, False)
    assert [p.pk for p in patient.professionals.all()] == [physio.pk]


@pytest.mark.django_db
def test_form_shows_every_error_on_the_first_submit_and_saves_nothing(bob, joao, physio, tenant_a) -> None:
    """Issue 14: the fields' errors and the service's rules (birth date,
    document on file, phone) in one round, next to the fields and in the
    summary on top."""
    response = login(bob).post(
        "/patients/new/",
        {"full_name": "", "email": "x@", "document": "123.456.789-09", "mobile": "abc", "birth_date": "2999-01-01"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors == {
        "full_name": ["This field is required."],
        "birth_date": ["The birth date cannot be in the future."],
        "document": ["Another patient of this organization already has this document number."],
        "email": ["Enter a valid email address."],
        "mobile": ["“abc” is not a valid phone number."],
        "professionals": ["Choose at least one responsible professional."],
    }
    summary = _summary(response)
    assert summary == [
        "Full name: This field is required.",
        "Birth date: The birth date cannot be in the future.",
        "Document number: Another patient of this organization already has this document number.",
        "E-mail: Enter a valid email address.",
        "Mobile: “abc” is not a valid phone number.",
        "Responsible professionals: Choose at least one responsible professional.",
    ]
    assert "Please correct these 6 errors:" in response.content.decode()
    assert len(_patients(tenant_a.organization)) == 1


def _summary(response) -> list[str]:
    """The error summary's lines, as read (tags stripped)."""
    import re

    html = response.content.decode()
    block = html[html.index('data-testid="form-errors"') :]
    block = block[: block.index("</ul>")]
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in re.findall(r"<li>(.*?)</li>", block, re.S)]


@pytest.mark.django_db
def test_edit_form_shows_every_error_at_once_and_changes_nothing(bob, joao, physio) -> None:
    other = PatientFactory(clinic=joao.clinic, full_name="Ana", document="529.982.247-25",
                           document_normalized="52998224725", professionals=[physio])  # fmt: skip
    response = login(bob).post(
        f"/patients/{other.pk}/edit/",
        {"full_name": "", "email": "x@", "document": "12345678909", "birth_date": "2999-01-01",
         "professionals": [physio.pk]},
    )  # fmt: skip
    assert set(response.context["form"].errors) == {"full_name", "email", "document", "birth_date"}
    other.refresh_from_db()
    assert (other.full_name, other.document) == ("Ana", "529.982.247-25")


@pytest.mark.django_db
def test_quick_mode_saves_only_personal_information(bob, physio, tenant_a) -> None:
    response = login(bob).post(
        "/patients/new/",
        {
            "quick": "on",
            "full_name": "Rápido da Silva",
            "professionals": [physio.pk],
            "mobile": "11 99876-5432",
            "city": "Campinas",
            "notes": "ignored in quick mode",
            "guardian_name": "ignored too",
        },
    )
    assert response.status_code == 302
    [patient] = _patients(tenant_a.organization)
    assert (patient.full_name, patient.mobile, patient.city, patient.notes, patient.guardian_name) == (
        "Rápido da Silva",
        "+5511998765432",
        "",
        "",
        "",
    )


@pytest.mark.django_db
def test_form_page_has_the_quick_switch_and_all_sections(bob, physio) -> None:
    content = login(bob).get("/patients/new/").content.decode()
    assert 'name="quick"' in content
    for section in [
        "section-personal",
        "section-financial",
        "section-address",
        "section-additional",
        "section-guardian",
    ]:
        assert section in content
    assert "Marcos Pereira" in content


@pytest.mark.django_db
def test_edit_changes_the_file_and_records_history(bob, alice, joao, physio, psychologist) -> None:
    client = login(bob)
    response = client.post(
        f"/patients/{joao.pk}/edit/",
        {"full_name": "João Conceição", "professionals": [physio.pk, psychologist.pk], "city": "Santos"},
    )
    assert response.status_code == 302
    joao.refresh_from_db()
    assert joao.city == "Santos"
    with scopes_disabled():
        assert {p.pk for p in joao.professionals.all()} == {physio.pk, psychologist.pk}
    body = api_client(alice).get(f"/api/v1/patients/{joao.pk}/history/").json()
    latest = body["results"][0]
    assert (latest["type"], latest["user"]) == ("changed", str(bob))
    city = next(change for change in latest["changes"] if change["field"] == "city")
    assert city == {"field": "city", "label": "City", "old": "", "new": "Santos", "old_text": "—", "new_text": "Santos"}


@pytest.mark.django_db
def test_archive_and_reactivate(bob, joao) -> None:
    client = login(bob)
    assert client.post(f"/patients/{joao.pk}/archive/").status_code == 302
    joao.refresh_from_db()
    assert joao.is_active is False
    assert client.post(f"/patients/{joao.pk}/reactivate/").status_code == 302
    joao.refresh_from_db()
    assert joao.is_active is True
    # The API's DELETE archives too: health records are kept.
    assert api_client(bob).delete(f"/api/v1/patients/{joao.pk}/").status_code == 204
    joao.refresh_from_db()
    assert joao.is_active is False


@pytest.mark.django_db
def test_receptionist_can_register_but_a_foreign_id_in_the_form_is_rejected(bob, foreign_professional) -> None:
    response = login(bob).post("/patients/new/", {"full_name": "Ana", "professionals": [foreign_professional.pk]})
    assert response.status_code == 200
    assert "professionals" in response.context["form"].errors
