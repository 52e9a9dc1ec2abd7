"""Django's database sessions, each row knowing its user (`UserSession`), so
a member's open sessions can be counted without decoding every session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from clinic.models import User


class SessionStore(DatabaseSessionStore):
    @classmethod
    def get_model_class(cls) -> type[Any]:
        from clinic.models import UserSession

        return UserSession

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance = super().create_model_instance(data)
        user_id = data.get("_auth_user_id")
        instance.user_id = int(user_id) if user_id is not None and str(user_id).isdigit() else None  # type: ignore[attr-defined]
        return instance


def sessions_open(user: User) -> int:
    """How many browser sessions of `user` have not expired (each device or
    browser they logged in on and did not log out of)."""
    return _open(user).count()


def sessions_end(*, user: User, keep: str | None = None) -> int:
    """Log `user` out of every browser but the one whose session key is
    `keep` (the caller's own, for "log out everywhere else"); how many ended.
    Their next request there finds no session and asks them to log in."""
    # Expired ones are left to `clearsessions`: they log no one in.
    ended, _rows = _open(user).exclude(session_key=keep or "").delete()
    return ended


def _open(user: User) -> QuerySet[Any]:
    return user.sessions.filter(expire_date__gt=timezone.now())
