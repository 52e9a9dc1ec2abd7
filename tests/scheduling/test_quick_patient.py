"""The booking modal's "New patient" (issue 14): a small form in the patient
picker that registers the patient through `patients.services.patient_create`
with every error at once, and hands the new patient to the picker."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.models import Organization
from patients.models import Patient, PatientProfessional
from tests.factories import ProfessionalFactory
from tests.scheduling.test_pages import client_for

pytestmark = pytest.mark.django_db

URL = reverse("scheduling:patient-new")


def form_data(professional, **fields) -> dict:
    data = {"full_name": "Maria Silva", "mobile": "(11) 98765-4321", "email": "maria@example.com",
            "birth_date": "1990-03-08", "professional": professional.pk if professional else ""}  # fmt: skip
    data.update(fields)
    return {f"new_patient-{name}": value for name, value in data.items()}


def field_errors(html: str) -> dict[str, list[str]]:
    """Each field's messages, as the form shows them under the field."""
    errors: dict[str, list[str]] = {}
    for name in ("full_name", "mobile", "email", "birth_date", "professional"):
        block = html.split(f'id="id_new_patient-{name}"', 1)[1].split('<div class="col', 1)[0]
        found = re.findall(r'<div class="invalid-feedback d-block">(.*?)</div>', block)
        if found:
            errors[name] = found
    return errors


def patient_count() -> int:
    with scopes_disabled():
        return Patient.objects.count()


def test_the_form_opens_with_the_typed_name_and_the_bookings_professional(bob, therapist, tenant_a) -> None:
    ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Ana Lima")
    response = client_for(bob).get(URL, {"q": " Maria Sil ", "professional": therapist.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="new_patient-full_name" value="Maria Sil"' in html
    assert f'<option value="{therapist.pk}" selected>Renata Costa</option>' in html
    assert 'data-testid="patient-new-save"' in html
    # Posted on its own: only its fields, not the booking form around it.
    assert 'hx-params="new_patient-full_name,new_patient-mobile,new_patient-email,new_patient-birth_date,' in html


def test_registering_creates_the_patient_and_chooses_them(bob, therapist, tenant_a) -> None:
    response = client_for(bob).post(URL, form_data(therapist))
    assert response.status_code == 200
    with scopes_disabled():
        patient = Patient.objects.get()
        assert (patient.organization_id, patient.clinic_id) == (tenant_a.organization.pk, tenant_a.central.pk)
        assert (patient.full_name, patient.mobile, patient.email, patient.birth_date) == (
            "Maria Silva",
            "+5511987654321",
            "maria@example.com",
            dt.date(1990, 3, 8),
        )
        assert list(PatientProfessional.objects.values_list("patient_id", "professional_id")) == [
            (patient.pk, therapist.pk)
        ]
    assert json.loads(response.headers["HX-Trigger"]) == {"patientCreated": {"id": patient.pk, "name": "Maria Silva"}}
    assert "Maria Silva is registered and chosen for this booking." in response.content.decode()


def test_every_error_shows_at_once(bob, therapist) -> None:
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = client_for(bob).post(URL, form_data(None, full_name="", mobile="123", email="maria@", birth_date=future))
    html = response.content.decode()
    assert "HX-Trigger" not in response.headers
    errors = field_errors(html)
    assert set(errors) == {"full_name", "mobile", "email", "birth_date", "professional"}
    assert errors["full_name"] == ["This field is required."]
    assert errors["professional"] == ["Choose the responsible professional."]
    assert "Correct these 5 fields to register the patient." in html
    assert patient_count() == 0


def test_a_field_the_form_cannot_read_does_not_hide_the_services_errors(bob, therapist) -> None:
    # The date does not parse: the service still checks the phone and the e-mail...
    response = client_for(bob).post(URL, form_data(therapist, birth_date="1990-13-45", mobile="123", email="x@"))
    errors = field_errors(response.content.decode())
    assert set(errors) == {"birth_date", "mobile", "email"}
    assert errors["birth_date"] == ["Enter a valid date."]
    # ...and with everything else right, nobody is registered until the date is.
    response = client_for(bob).post(URL, form_data(therapist, birth_date="1990-13-45"))
    assert set(field_errors(response.content.decode())) == {"birth_date"}
    assert "HX-Trigger" not in response.headers
    assert patient_count() == 0


def test_another_organizations_professional_is_a_404_or_an_invalid_choice(bob, charlie, tenant_b) -> None:
    theirs = ProfessionalFactory(clinic=tenant_b.central, organization=tenant_b.organization, name="Beatriz")
    client = client_for(bob)
    assert client.get(URL, {"professional": theirs.pk}).status_code == 404
    assert client.get(URL, {"professional": "x"}).status_code == 404
    response = client.post(URL, form_data(theirs))
    assert field_errors(response.content.decode()) == {
        "professional": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert "Beatriz" not in response.content.decode()
    assert patient_count() == 0


def test_registering_needs_the_patients_permission(bob, therapist, tenant_a, patient, physio_service) -> None:
    client = client_for(bob)
    assert 'data-testid="patient-new"' in client.get("/calendar/book/").content.decode()
    with scopes_disabled():
        Organization.objects.filter(pk=tenant_a.organization.pk).update(
            permission_overrides={"manage_patients": ["owner"]}
        )
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(therapist)).status_code == 403
    assert 'data-testid="patient-new"' not in client.get("/calendar/book/").content.decode()
    assert patient_count() == 1  # the fixture's patient only
