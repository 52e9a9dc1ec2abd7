from __future__ import annotations

import logging

import pytest
from django import forms
from django.test import Client

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


@pytest.mark.urls("tests.clinic.boom_urls")
def test_an_unexpected_error_under_the_api_answers_json_with_the_request_id_of_its_log_line(caplog, settings) -> None:
    response = Client(raise_request_exception=False).get("/api/v1/boom/", headers={"X-Request-ID": "lb-7f3a9c21"})
    assert (response.status_code, response["Content-Type"]) == (500, "application/json")
    body = response.json()
    assert (body["code"], body["fields"], body["request_id"]) == ("server_error", {}, "lb-7f3a9c21")
    assert "lb-7f3a9c21" in body["detail"]
    assert response["X-Request-ID"] == "lb-7f3a9c21"
    [record] = [r for r in caplog.records if r.name == "django.request"]
    line = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"]).format(record)
    assert "ERROR django.request [req lb-7f3a9c21] Internal Server Error: /api/v1/boom/" in line
    assert "RuntimeError: boom" in line


@pytest.mark.urls("tests.clinic.boom_urls")
def test_an_unexpected_error_on_a_page_answers_html_with_a_new_request_id() -> None:
    response = Client(raise_request_exception=False).get("/boom/", headers={"X-Request-ID": "bad id!"})
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32  # an id it made, not the unsafe one sent
    html = response.content.decode()
    assert f'data-testid="error-reference">{request_id[:8]}<' in html  # short enough to read out
    assert "Support:" not in html  # no SUPPORT_EMAIL set


@pytest.mark.urls("tests.clinic.boom_urls")
def test_the_error_page_shows_a_load_balancers_id_whole_and_the_support_address(settings) -> None:
    settings.SUPPORT_EMAIL = "help@example.com"
    response = Client(raise_request_exception=False).get("/boom/", headers={"X-Request-ID": "lb-7f3a9c21"})
    html = response.content.decode()
    assert 'data-testid="error-reference">lb-7f3a9c21<' in html
    assert '<a href="mailto:help@example.com">help@example.com</a>' in html
