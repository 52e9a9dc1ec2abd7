from __future__ import annotations

import pytest
from django import forms

from clinic.errors import ApplicationError, Conflict, ValidationFailed, add_to_form
from tests.conftest import api_client


@pytest.mark.django_db
def test_validation_error_format(alice) -> None:
    response = api_client(alice).post("/api/v1/clinics/", {"name": "", "currency": "BRL"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "detail": "Some fields are not valid.",
        "fields": {"name": ["This field may not be blank."]},
    }


@pytest.mark.django_db
def test_service_validation_error_reaches_the_api_with_its_fields(alice) -> None:
    client = api_client(alice)
    response = client.post("/api/v1/clinics/", {"name": "Lapa", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "detail": "Some fields are not valid.",
        "fields": {"time_zone": ["“Mars/Olympus” is not a known time zone."]},
    }
    response = client.post("/api/v1/clinics/", {"name": "Second head office", "is_central": True})
    assert response.status_code == 400
    assert response.json()["fields"] == {"non_field_errors": ["The organization already has a central clinic."]}


@pytest.mark.django_db
def test_unknown_api_url_answers_json_404(alice) -> None:
    response = api_client(alice).get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}


@pytest.mark.django_db
def test_role_refusal_is_403_with_code(bob) -> None:
    response = api_client(bob).post("/api/v1/clinics/", {"name": "New"})
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "Your role does not allow this action.",
        "fields": {},
    }


def test_conflict_is_409() -> None:
    error = Conflict()
    assert error.status == 409
    assert error.as_dict() == {
        "code": "conflict",
        "detail": "The record was changed by someone else. Reload and try again.",
        "fields": {},
    }


def test_application_error_keeps_a_custom_code_and_fields() -> None:
    error = ApplicationError("No sessions left.", code="package_exhausted", fields={"package": ["empty"]})
    assert error.as_dict() == {
        "code": "package_exhausted",
        "detail": "No sessions left.",
        "fields": {"package": ["empty"]},
    }
    assert error.status == 400


def test_add_to_form_puts_messages_on_fields_and_the_rest_on_top() -> None:
    class Form(forms.Form):
        name = forms.CharField()

    form = Form({"name": "x"})
    assert form.is_valid()
    add_to_form(form, ValidationFailed(fields={"name": ["Taken."], "elsewhere": ["Other."]}))
    assert form.errors == {"name": ["Taken."], "__all__": ["Other."]}

    form = Form({"name": "x"})
    assert form.is_valid()
    add_to_form(form, ApplicationError("Nothing left.", code="package_exhausted"))
    assert form.non_field_errors() == ["Nothing left."]
