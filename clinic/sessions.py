"""Django's database sessions, each row knowing its user (`UserSession`), so
a member's open sessions can be counted without decoding every session."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


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
