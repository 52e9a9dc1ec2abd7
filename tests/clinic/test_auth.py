from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import api_client, login


@pytest.mark.django_db
def test_login_page_logs_in_and_lands_on_dashboard(alice, password) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "alice", "password": password}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert response.context["user"].username == "alice"
    assert "Alpha Central" in response.content.decode()


@pytest.mark.django_db
def test_login_with_wrong_password_shows_the_error_on_the_form(alice) -> None:
    response = Client().post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in response.wsgi_request.session


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_for_a_while(alice, password, settings) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "alice", "password": password})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_ends_the_session(alice) -> None:
    client = login(alice)
    assert client.get("/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_pages_require_login() -> None:
    for path in ["/", "/settings/", "/patients/", "/calendar/", "/packages/", "/finance/", "/reports/"]:
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path


@pytest.mark.django_db
def test_password_change(alice, password) -> None:
    client = login(alice)
    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": "a-new-Passw0rd-42", "new_password2": "a-new-Passw0rd-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    alice.refresh_from_db()
    assert alice.check_password("a-new-Passw0rd-42")


@pytest.mark.django_db
def test_password_change_with_wrong_old_password_shows_field_error(alice) -> None:
    response = login(alice).post(
        "/accounts/password/",
        {"old_password": "nope", "new_password1": "a-new-Passw0rd-42", "new_password2": "a-new-Passw0rd-42"},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert 'class="invalid-feedback d-block"' in response.content.decode()


@pytest.mark.django_db
def test_token_endpoint_returns_a_token_that_authenticates(alice, password) -> None:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": password})
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 43
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/clinics/").status_code == 200


@pytest.mark.django_db
def test_token_endpoint_with_bad_credentials_is_400(alice) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_credentials",
        "detail": "Unable to log in with the given username and password.",
        "fields": {},
    }


@pytest.mark.django_db
def test_token_endpoint_missing_fields_is_400_with_fields() -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"] == {"password": ["This field is required."]}


@pytest.mark.django_db
def test_api_without_credentials_is_401() -> None:
    response = APIClient().get("/api/v1/clinics/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_api_with_an_invalid_token_is_401(alice) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get("/api/v1/clinics/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.django_db
def test_api_accepts_the_browser_session(alice) -> None:
    response = login(alice).get("/api/v1/clinics/")
    assert response.status_code == 200
    assert response.json()["count"] == 2


@pytest.mark.django_db
def test_inactive_users_token_is_refused(alice) -> None:
    client = api_client(alice)
    alice.is_active = False
    alice.save()
    assert client.get("/api/v1/clinics/").status_code == 401
