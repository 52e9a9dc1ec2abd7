"""Races on the entry points of access and of background work, with real
threads on real PostgreSQL (one connection per thread): logging in (a token
issued, the oldest revoked past `MAX_PER_USER`) against logging in, revoking
a token against requests that use it, and two relays of the outbox at once.
No race may answer 500, and each ends in a state the same calls made one
after the other could leave."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
import redis
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from clinic import jobs, tokens
from clinic.models import ApiToken, OutboxMessage, Role
from tests.conftest import make_member
from tests.factories import PASSWORD
from tests.ledger.test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _status(result: object) -> int | str:
    return result if isinstance(result, int) else f"unexpected {type(result).__name__}: {result}"


def test_logins_at_once_at_the_token_limit_each_get_a_token(tenant_a) -> None:
    """Eight logins at once of a user holding one token short of the limit:
    each gets a working token, none answers 500, and the oldest tokens go
    (each login revokes what is past the limit among the tokens it sees)."""
    assert connection.vendor == "postgresql"
    user = make_member(tenant_a, "racing-logins", Role.RECEPTIONIST)
    for n in range(tokens.MAX_PER_USER - 1):
        tokens.token_issue(user=user, name=f"old {n}")
    ApiToken.objects.filter(user=user).update(last_used_at=timezone.now() - dt.timedelta(days=30))
    old = set(ApiToken.objects.filter(user=user).values_list("pk", flat=True))

    def log_in(i: int) -> tuple[int, str]:
        client = APIClient(REMOTE_ADDR=f"10.1.0.{i}")
        body = {"username": user.username, "password": PASSWORD, "name": f"new {i}"}
        response = client.post("/api/v1/auth/token/", body, format="json")
        return response.status_code, response.json().get("token", "")

    results = run_concurrently(log_in, THREADS)
    assert [r[0] if isinstance(r, tuple) else _status(r) for r in results] == [200] * THREADS
    keys = [r[1] for r in results if isinstance(r, tuple)]
    for key in keys:  # every new token works, whichever login revoked which old one
        client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/v1/clinics/").status_code == 200
    left = set(ApiToken.objects.filter(user=user).values_list("pk", flat=True))
    assert len(left - old) == THREADS
    # Each login saw its own token and the committed ones: at least the
    # overflow of the last one to commit is gone, never a new token.
    assert tokens.MAX_PER_USER <= len(left) <= tokens.MAX_PER_USER + THREADS - 1


def test_revoking_a_token_while_it_is_used_never_answers_500(tenant_a) -> None:
    """One thread revokes the token (`DELETE /api/v1/auth/tokens/{id}/`)
    while seven send requests with it; those whose last use is old also
    write `last_used_at` (the touch) as the row goes. Each request answers
    200 (before the revocation) or 401 (after), and then it is 401 for good."""
    user = make_member(tenant_a, "racing-revoke", Role.RECEPTIONIST)
    for _round in range(3):
        token, key = tokens.token_issue(user=user, name="CI")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - dt.timedelta(hours=1))

        def work(i: int, token_id: int = token.pk, key: str = key) -> int:
            client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
            if i == 0:
                return client.delete(f"/api/v1/auth/tokens/{token_id}/").status_code
            return client.get("/api/v1/auth/tokens/").status_code

        results = run_concurrently(work, THREADS)
        assert _status(results[0]) == 204
        assert Counter(map(_status, results[1:])).keys() <= {200, 401}, results
        assert not ApiToken.objects.filter(pk=token.pk).exists()
        assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/clinics/").status_code == 401


def test_revoking_the_same_token_twice_at_once_is_204_then_404(tenant_a) -> None:
    user = make_member(tenant_a, "racing-double-revoke", Role.RECEPTIONIST)
    token, _key = tokens.token_issue(user=user, name="CI")
    _other, other_key = tokens.token_issue(user=user, name="Laptop")

    def revoke(i: int) -> int:
        client = APIClient(HTTP_AUTHORIZATION=f"Token {other_key}")
        return client.delete(f"/api/v1/auth/tokens/{token.pk}/").status_code

    results = run_concurrently(revoke, 4)
    assert sorted(map(_status, results)) == [204, 404, 404, 404]  # type: ignore[type-var]
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_two_relays_at_once_send_each_message_once(settings) -> None:
    """Four relays of the outbox at once over 60 messages the broker refused
    earlier: SKIP LOCKED shares them out, the broker's queue holds each
    message exactly once (by its task id, the row's id) and every row is
    marked sent."""
    from clinic.celery import app

    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client.delete(queue)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(task="clinic.tests.never_runs", args=[n], kwargs={}) for n in range(60)
    )
    OutboxMessage.objects.update(created_at=long_ago)  # past the relay's grace
    app.conf.task_always_eager = False
    try:
        results = run_concurrently(lambda i: jobs.relay_outbox(), 4)
        queued = [json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)]
    finally:
        app.conf.task_always_eager = True
        client.delete(queue)
    assert all(isinstance(sent, int) for sent in results), results
    assert sum(results) == 60  # type: ignore[arg-type]
    assert sorted(queued) == sorted(str(row.pk) for row in rows)
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_logging_a_member_out_everywhere_while_they_log_in_and_manage_their_access(tenant_a) -> None:
    """An owner's *Log out everywhere* (which locks the member's row) at the
    same instant as the member logging in on a page and through the API,
    revoking their own token, and logging out everywhere else. Nothing
    answers 500; every page answers its redirect; whatever existed before
    is gone; and a session or token made during the race either works or
    is gone, never half-made. Three rounds."""
    from django.test import Client

    from clinic.models import UserSession

    owner = make_member(tenant_a, "racing-owner", Role.OWNER, tenant_a.central)
    member = make_member(tenant_a, "racing-member", Role.RECEPTIONIST)

    def log_in() -> Client:
        client = Client()
        assert client.post("/accounts/login/", {"username": member.username, "password": PASSWORD}).status_code == 302
        return client

    for _round in range(3):
        owners, laptop, phone = Client(), log_in(), log_in()
        owners.force_login(owner)
        mine, _key = tokens.token_issue(user=member, name="Spreadsheet")
        before_sessions = set(UserSession.objects.filter(user=member).values_list("session_key", flat=True))
        before_tokens = set(ApiToken.objects.filter(user=member).values_list("pk", flat=True))
        newcomer = Client()

        def work(
            i: int, mine: ApiToken = mine, clients: tuple[Client, ...] = (owners, newcomer, laptop, phone)
        ) -> object:
            owners, newcomer, laptop, phone = clients
            if i == 0:
                return owners.post(f"/settings/team/{member.pk}/log-out/").status_code
            if i == 1:
                body = {"username": member.username, "password": PASSWORD}
                return newcomer.post("/accounts/login/", body).status_code
            if i == 2:
                body = {"username": member.username, "password": PASSWORD, "name": "Race"}
                response = APIClient(REMOTE_ADDR="10.2.0.1").post("/api/v1/auth/token/", body, format="json")
                return response.status_code, response.json().get("token", "")
            if i == 3:
                return laptop.post(f"/accounts/access/tokens/{mine.pk}/revoke/").status_code
            return phone.post("/accounts/access/log-out-elsewhere/").status_code

        results = run_concurrently(work, 5)
        assert [_status(r) for r in results[:2]] == [302, 302], results
        assert isinstance(results[2], tuple), results[2]
        assert results[2][0] == 200, results[2]
        # The laptop's revocation finds the token gone when the owner's
        # log-out committed between its login check and its DELETE: 404.
        assert _status(results[3]) in (302, 404), results
        assert _status(results[4]) == 302, results
        left_sessions = set(UserSession.objects.filter(user=member).values_list("session_key", flat=True))
        assert not left_sessions & before_sessions  # the owner's log-out ended every earlier browser
        assert not ApiToken.objects.filter(pk__in=before_tokens).exists()
        new_key = results[2][1]
        token_works = APIClient(HTTP_AUTHORIZATION=f"Token {new_key}").get("/api/v1/clinics/").status_code
        # Issued after the log-out (it works), or revoked by it (no row): never a row that does not work.
        assert (token_works == 200) == ApiToken.objects.filter(digest=tokens.digest(new_key)).exists()
        assert (newcomer.get("/").status_code == 200) == (newcomer.session.session_key in left_sessions)
        assert owners.get("/").status_code == 200  # the owner's own session stays


def test_an_owner_revoking_one_token_while_the_member_and_another_owner_end_it(tenant_a) -> None:
    """An owner revokes one of a member's tokens on the member's page at the
    same instant as the member revokes it on *Your access*, a program uses
    it, and a second owner logs the member out everywhere (every one of
    these locks the member's row or deletes the token). Nothing answers 500;
    the token is gone; it is recorded as revoked by the owner at most once,
    and only when the owner's revocation is the one that found it. Three rounds."""
    from django.test import Client
    from django_scopes import scopes_disabled

    from clinic.models import MemberEvent, MemberEventKind

    def revocations() -> list[tuple[str, int | None]]:
        with scopes_disabled():
            events = MemberEvent.objects.filter(user=member, kind=MemberEventKind.TOKEN_REVOKED).order_by("pk")
            return list(events.values_list("detail", "actor_id"))

    owner = make_member(tenant_a, "racing-owner-1", Role.OWNER, tenant_a.central)
    second = make_member(tenant_a, "racing-owner-2", Role.OWNER, tenant_a.central)
    member = make_member(tenant_a, "racing-member-2", Role.RECEPTIONIST)
    for _round in range(3):
        owners, seconds, laptop = Client(), Client(), Client()
        owners.force_login(owner)
        seconds.force_login(second)
        laptop.force_login(member)
        token, key = tokens.token_issue(user=member, name="Zapier")
        _other, other_key = tokens.token_issue(user=member, name="Planilha")
        before = revocations()

        def work(
            i: int, token_id: int = token.pk, key: str = key, clients: tuple[Client, ...] = (owners, laptop, seconds)
        ) -> object:
            owners, laptop, seconds = clients
            if i == 0:
                response = owners.post(f"/settings/team/{member.pk}/tokens/{token_id}/revoke/", follow=True)
                html = response.content.decode()
                return response.status_code, "was revoked:" in html, "revoked already" in html
            if i == 1:
                return laptop.post(f"/accounts/access/tokens/{token_id}/revoke/").status_code
            if i == 2:
                return APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/clinics/").status_code
            return seconds.post(f"/settings/team/{member.pk}/log-out/").status_code

        results = run_concurrently(work, 4)
        assert isinstance(results[0], tuple), results
        status, revoked, already = results[0]
        assert status == 200, results
        assert revoked != already, results  # one message: it revoked, or found it gone
        # Your access: revoked (302), found it gone (404), or logged out by the owner first (302 to login).
        assert _status(results[1]) in (302, 404), results
        assert _status(results[2]) in (200, 401), results
        assert _status(results[3]) == 302, results
        assert not ApiToken.objects.filter(pk=token.pk).exists()
        assert APIClient(HTTP_AUTHORIZATION=f"Token {other_key}").get("/api/v1/clinics/").status_code == 401
        assert revocations()[len(before) :] == ([("Zapier", owner.pk)] if revoked else []), results
