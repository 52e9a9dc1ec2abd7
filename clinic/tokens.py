"""API tokens (`ApiToken`): issued at login, listed and revoked by their user.

A key is 43 random URL-safe characters; the database keeps its SHA-256 digest
(a stolen backup holds no usable key) and its first 8 characters, to tell
the tokens apart in a list. `last_used_at` is written at most every
`TOUCH_EVERY`, not on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.errors import NotFound
from clinic.models import ApiToken, User

TOUCH_EVERY = dt.timedelta(minutes=5)
MAX_PER_USER = 100  # beyond it, the least recently used are revoked at the next login


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; its key (returned once, never stored)."""
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name.strip()[:100] or "API", digest=digest(key), prefix=key[:8], last_used_at=timezone.now()
        )  # used once already: to log in
        recent = Coalesce("last_used_at", "created_at").desc()
        stale = ApiToken.objects.filter(user=user).order_by(recent, "-pk").values_list("pk", flat=True)
        ApiToken.objects.filter(pk__in=list(stale[MAX_PER_USER:])).delete()
    return token, key


def token_for_key(key: str) -> ApiToken | None:
    """The live token of an active user with this key, marked as used."""
    token = ApiToken.objects.select_related("user").filter(digest=digest(key)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s tokens (the revoked row is returned, for its
    name); another's reads as missing, and so does one revoked meanwhile."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None or not ApiToken.objects.filter(pk=token.pk).delete()[0]:
        raise NotFound()
    return token


def tokens_revoke_all(*, user: User) -> int:
    deleted, _rows = ApiToken.objects.filter(user=user).delete()
    return deleted
