"""An owner sees, on a member's page, their last login, how many browsers
they are logged in on, and their API tokens (issue 15)."""

from __future__ import annotations

import pytest
from django.test import Client

from clinic import tokens
from clinic.models import UserSession
from tests.conftest import login


def _log_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    return client


@pytest.mark.django_db
def test_an_owner_sees_a_members_open_sessions_and_api_tokens(alice, bob, password) -> None:
    laptop, _phone = _log_in("bob", password), _log_in("bob", password)
    tokens.token_issue(user=bob, name="Zapier")
    page = login(alice).get(f"/settings/team/{bob.pk}/")
    html = page.content.decode()
    assert page.context["open_sessions"] == 2
    assert "2 browsers logged in" in html
    [token] = page.context["api_tokens"]
    assert token.name == "Zapier"
    assert f"{token.prefix}…" in html
    assert token.digest not in html

    laptop.post("/accounts/logout/")
    assert login(alice).get(f"/settings/team/{bob.pk}/").context["open_sessions"] == 1
    assert UserSession.objects.filter(user=bob).count() == 1


@pytest.mark.django_db
def test_a_session_row_knows_its_user_and_an_anonymous_one_none(alice, password) -> None:
    Client().get("/accounts/login/")  # a visitor's session, if any, has no user
    _log_in("alice", password)
    assert set(UserSession.objects.values_list("user__username", flat=True)) <= {"alice", None}
    assert UserSession.objects.filter(user=alice).count() == 1


@pytest.mark.django_db
def test_another_organizations_member_page_is_404(alice, charlie) -> None:
    assert login(charlie).get(f"/settings/team/{alice.pk}/").status_code == 404
