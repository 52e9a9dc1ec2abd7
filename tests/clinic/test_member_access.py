"""An owner sees, on a member's page, their last login, how many browsers
they are logged in on, and their API tokens, and can log them out
everywhere; each person sees and ends their own on "Your access" (issue 15)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic import team, tokens
from clinic.models import ApiToken, MemberEventKind, Role, UserSession
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
    assert 'data-testid="open-sessions">2<' in html
    [token] = page.context["api_tokens"]
    assert token.name == "Zapier"
    assert re.search(r"Zapier · <span[^>]*>created ", html)
    assert token.prefix not in html  # the key is its owner's business, not the owner's
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


# Logging out everywhere: the owner for a member, anyone for themselves


def _logged_in(client: Client) -> bool:
    return client.get("/").status_code == 200  # logged out: a redirect to the login page


@pytest.mark.django_db
def test_an_owner_logs_a_member_out_everywhere(alice, bob, password) -> None:
    laptop, phone = _log_in("bob", password), _log_in("bob", password)
    _token, key = tokens.token_issue(user=bob, name="Zapier")
    owner = _log_in("alice", password)
    response = owner.post(f"/settings/team/{bob.pk}/log-out/", follow=True)
    assert "was logged out of every browser" in response.content.decode()
    assert not _logged_in(laptop)
    assert not _logged_in(phone)
    assert ApiToken.objects.filter(user=bob).count() == 0
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/clinics/").status_code == 401
    assert _logged_in(owner)  # the owner's own session stays
    with scopes_disabled():
        assert bob.member_events.filter(kind=MemberEventKind.LOGGED_OUT, actor=alice).count() == 1
    assert _logged_in(_log_in("bob", password))  # their access stays: they log in again
    assert "Logged out everywhere" in owner.get(f"/settings/team/{bob.pk}/").content.decode()


@pytest.mark.django_db
def test_logging_out_a_member_with_nothing_open_says_so_and_records_nothing(alice, bob, password) -> None:
    owner = _log_in("alice", password)
    page = owner.get(f"/settings/team/{bob.pk}/").content.decode()
    assert 'data-testid="open-sessions">None<' in page
    assert 'data-testid="member-log-out"' not in page  # not offered
    assert 'data-testid="member-deactivate"' in page
    response = owner.post(f"/settings/team/{bob.pk}/log-out/", follow=True)  # a page left open
    assert "there was nothing to end" in response.content.decode()
    with scopes_disabled():
        assert not bob.member_events.filter(kind=MemberEventKind.LOGGED_OUT).exists()


@pytest.mark.django_db
def test_an_invited_member_shows_no_logins_and_your_own_page_links_your_access(alice, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        nina = team.member_invite(
            actor=alice, email="nina@example.com", first_name="Nina", last_name="Costa", role=Role.RECEPTIONIST,
            clinic_ids=[tenant_a.central.pk],
        )  # fmt: skip
    page = login(alice).get(f"/settings/team/{nina.pk}/").content.decode()
    assert "Invited, not yet accepted" in page
    assert 'data-testid="open-sessions"' not in page
    assert "Last login" not in page
    assert 'data-testid="own-access"' not in page
    own = login(alice).get(f"/settings/team/{alice.pk}/").content.decode()
    assert 'href="/accounts/access/"' in own.split('data-testid="own-access"')[1].split("</p>")[0]


@pytest.mark.django_db
def test_who_cannot_deactivate_a_member_cannot_log_them_out(alice, bob, password) -> None:
    phone = _log_in("alice", password)
    response = login(bob).post(f"/settings/team/{alice.pk}/log-out/")
    assert response.status_code in (302, 403)
    assert _logged_in(phone)
    with scopes_disabled():
        assert not alice.member_events.filter(kind=MemberEventKind.LOGGED_OUT).exists()


@pytest.mark.django_db
def test_another_organizations_member_cannot_be_logged_out(alice, charlie, password) -> None:
    phone = _log_in("charlie", password)
    assert login(alice).post(f"/settings/team/{charlie.pk}/log-out/").status_code == 404
    assert _logged_in(phone)


@pytest.mark.django_db
def test_an_owner_revokes_one_token_of_a_member_and_leaves_the_rest(alice, bob, password) -> None:
    browser = _log_in("bob", password)
    zapier, zapier_key = tokens.token_issue(user=bob, name="Zapier")
    _sheet, sheet_key = tokens.token_issue(user=bob, name="Planilha")
    owner = _log_in("alice", password)
    page = owner.get(f"/settings/team/{bob.pk}/").content.decode()
    assert page.count('data-testid="member-token-revoke"') == 2
    assert "Revoke the token “Zapier”?" in page
    url = f"/settings/team/{bob.pk}/tokens/{zapier.pk}/revoke/"
    response = owner.post(url, follow=True)
    html = response.content.decode()
    assert "An API token of" in html
    assert "was revoked" in html
    assert Client(HTTP_AUTHORIZATION=f"Token {zapier_key}").get("/api/v1/clinics/").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Token {sheet_key}").get("/api/v1/clinics/").status_code == 200
    assert _logged_in(browser)  # one token, nothing else
    assert [t.name for t in response.context["api_tokens"]] == ["Planilha"]
    assert "API token “Zapier” revoked" in html  # the history
    again = owner.post(url, follow=True).content.decode()  # a page left open
    assert "This token was revoked already" in again
    with scopes_disabled():
        assert list(bob.member_events.filter(kind=MemberEventKind.TOKEN_REVOKED, actor=alice).values_list(
            "detail", flat=True)) == ["Zapier"]  # fmt: skip


@pytest.mark.django_db
def test_a_token_is_revoked_only_by_who_may_log_its_user_out(alice, bob, charlie, password) -> None:
    alices, alices_key = tokens.token_issue(user=alice, name="Planilha")
    charlies, charlies_key = tokens.token_issue(user=charlie, name="Outra")
    assert 'data-testid="member-token-revoke"' not in login(alice).get(f"/settings/team/{alice.pk}/").content.decode()
    assert login(bob).post(f"/settings/team/{alice.pk}/tokens/{alices.pk}/revoke/").status_code in (302, 403)
    own = login(alice).post(f"/settings/team/{alice.pk}/tokens/{alices.pk}/revoke/", follow=True)
    assert "open “Your access”" in own.content.decode()  # your own are on Your access
    assert login(alice).post(f"/settings/team/{charlie.pk}/tokens/{charlies.pk}/revoke/").status_code == 404
    # Another person's token through a member's address reads as revoked, and stays.
    mixed = login(alice).post(f"/settings/team/{bob.pk}/tokens/{charlies.pk}/revoke/", follow=True)
    assert "This token was revoked already" in mixed.content.decode()
    assert "Outra" not in mixed.content.decode()
    for key in (alices_key, charlies_key):
        assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/clinics/").status_code == 200
    with scopes_disabled():
        assert ApiToken.objects.filter(pk__in=[alices.pk, charlies.pk]).count() == 2
        assert not bob.member_events.filter(kind=MemberEventKind.TOKEN_REVOKED).exists()


@pytest.mark.django_db
def test_your_access_lists_your_tokens_and_revokes_them(alice, bob, password) -> None:
    mine, key = tokens.token_issue(user=alice, name="Planilha")
    bobs, bobs_key = tokens.token_issue(user=bob, name="Zapier")
    client = _log_in("alice", password)
    page = client.get("/accounts/access/")
    html = page.content.decode()
    assert page.context["api_tokens"] == [mine]
    assert "Planilha" in html
    assert f"{mine.prefix}…" in html
    assert "Zapier" not in html
    assert mine.digest not in html
    assert client.post(f"/accounts/access/tokens/{bobs.pk}/revoke/").status_code == 404  # not yours
    assert ApiToken.objects.filter(pk=bobs.pk).exists()
    response = client.post(f"/accounts/access/tokens/{mine.pk}/revoke/", follow=True)
    assert "The token was revoked" in response.content.decode()
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/clinics/").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Token {bobs_key}").get("/api/v1/clinics/").status_code == 200
    assert "No API tokens" in client.get("/accounts/access/").content.decode()


@pytest.mark.django_db
def test_log_out_everywhere_else_keeps_this_browser(alice, bob, password) -> None:
    here, laptop, phone = _log_in("alice", password), _log_in("alice", password), _log_in("alice", password)
    bobs = _log_in("bob", password)
    assert "logged in on 3 browsers" in here.get("/accounts/access/").content.decode()
    response = here.post("/accounts/access/log-out-elsewhere/", follow=True)
    assert "Logged out of 2 other browsers." in response.content.decode()
    assert _logged_in(here)
    assert not _logged_in(laptop)
    assert not _logged_in(phone)
    assert _logged_in(bobs)  # only your own sessions
    html = here.get("/accounts/access/").content.decode()
    assert "logged in on 1 browser, this one included" in html
    assert 'data-testid="log-out-elsewhere"' not in html  # nothing else to end


@pytest.mark.django_db
def test_your_access_reads_in_constant_queries(alice, password) -> None:
    client = _log_in("alice", password)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/accounts/access/").status_code == 200
        return len(context.captured_queries)

    tokens.token_issue(user=alice, name="one")
    one = queries()
    for n in range(20):
        tokens.token_issue(user=alice, name=f"token {n}")
    assert queries() == one


@pytest.mark.django_db
def test_expired_sessions_are_not_counted_and_the_daily_task_clears_them(alice, bob, password, settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from clinic.tasks import clear_expired_sessions

    stale, fresh = _log_in("bob", password), _log_in("bob", password)
    UserSession.objects.filter(session_key=stale.session.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    assert 'data-testid="open-sessions">1<' in login(alice).get(f"/settings/team/{bob.pk}/").content.decode()
    assert "clinic.tasks.clear_expired_sessions" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    clear_expired_sessions()
    assert list(UserSession.objects.filter(user=bob).values_list("session_key", flat=True)) == [
        fresh.session.session_key
    ]
    assert _logged_in(fresh)
