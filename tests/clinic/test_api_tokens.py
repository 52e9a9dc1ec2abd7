"""API tokens (clinic.tokens): one per login, listed and revoked by their
user; logging in is limited per IP and per account."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic import tokens
from clinic.models import ApiToken


def _login(password: str, name: str = "API", ip: str = "10.0.0.1", username: str = "alice") -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    response = client.post("/api/v1/auth/token/", {"username": username, "password": password, "name": name})
    assert response.status_code == 200, response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


@pytest.mark.django_db
def test_each_login_gets_its_own_token_listed_and_revoked_by_its_user(alice, password) -> None:
    laptop, phone = _login(password, "Laptop"), _login(password, "Phone")
    listed = laptop.get("/api/v1/auth/tokens/").json()
    assert [(t["name"], t["current"]) for t in listed] == [("Phone", False), ("Laptop", True)]
    assert all(len(t["prefix"]) == 8 and t["last_used_at"] for t in listed)
    assert "digest" not in listed[0]  # only the key's first characters are ever shown

    assert laptop.delete(f"/api/v1/auth/tokens/{listed[0]['id']}/").status_code == 204
    assert phone.get("/api/v1/clinics/").status_code == 401  # revoked
    assert laptop.get("/api/v1/clinics/").status_code == 200  # the other still works
    # Revoking the token in use logs this client out.
    assert laptop.delete(f"/api/v1/auth/tokens/{listed[1]['id']}/").status_code == 204
    assert laptop.get("/api/v1/auth/tokens/").status_code == 401


@pytest.mark.django_db
def test_another_users_token_is_404_and_stays(alice, charlie, password) -> None:
    charlies, _key = tokens.token_issue(user=charlie, name="Beta integration")
    client = _login(password)
    assert client.get("/api/v1/auth/tokens/").json()[0]["name"] == "API"
    response = client.delete(f"/api/v1/auth/tokens/{charlies.pk}/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert "Beta" not in client.get("/api/v1/auth/tokens/").content.decode()
    assert ApiToken.objects.filter(pk=charlies.pk).exists()


@pytest.mark.django_db
def test_the_token_list_reads_in_constant_queries(alice, password) -> None:
    client = _login(password)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/api/v1/auth/tokens/").status_code == 200
        return len(context.captured_queries)

    one = queries()
    for index in range(20):
        tokens.token_issue(user=alice, name=f"device {index}")
    assert queries() == one


@pytest.mark.django_db
def test_logging_in_is_limited_per_account_from_any_address(alice, password) -> None:
    body = {"username": "alice", "password": password}
    answers = [APIClient(REMOTE_ADDR=f"10.0.1.{n}").post("/api/v1/auth/token/", body) for n in range(11)]
    assert [a.status_code for a in answers[:10]] == [200] * 10
    assert (answers[10].status_code, answers[10].json()["code"]) == (429, "throttled")
    assert int(answers[10]["Retry-After"]) > 0
    # Another account from the same addresses is not held back.
    assert (
        APIClient(REMOTE_ADDR="10.0.1.1").post("/api/v1/auth/token/", {"username": "bob", "password": "x"}).status_code
        == 400
    )


@pytest.mark.django_db
def test_logging_in_is_limited_per_address(alice, password) -> None:
    client = APIClient(REMOTE_ADDR="10.0.2.1")
    answers = [client.post("/api/v1/auth/token/", {"username": f"user{n}", "password": "x"}) for n in range(31)]
    assert {a.status_code for a in answers[:30]} == {400}
    assert answers[30].status_code == 429


@pytest.mark.django_db
def test_a_token_issued_before_api_tokens_keeps_working(alice) -> None:
    legacy = Token.objects.create(user=alice)
    migration = importlib.import_module("clinic.migrations.0017_api_tokens")
    migration.copy_drf_tokens(apps, None)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {legacy.key}")
    assert client.get("/api/v1/clinics/").status_code == 200
    assert [t["prefix"] for t in client.get("/api/v1/auth/tokens/").json()] == [legacy.key[:8]]


@pytest.mark.django_db
def test_only_a_digest_of_the_key_is_stored(alice) -> None:
    token, key = tokens.token_issue(user=alice, name="x")
    token.refresh_from_db()
    assert key not in (token.digest, token.prefix)
    assert tokens.token_for_key(key) == token
    assert tokens.token_for_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None


@pytest.mark.django_db
def test_revoking_an_id_that_cannot_be_a_token_is_404(alice, password) -> None:
    client = _login(password)
    for key in ("null,null", "abc", "0", str(2**63)):
        response = client.delete(f"/api/v1/auth/tokens/{key}/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), key
    assert client.get("/api/v1/auth/tokens/").status_code == 200  # nothing was revoked
