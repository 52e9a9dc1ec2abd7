"""Token authentication that reuses the lookup TenantMiddleware already did.

Kept free of view imports: DRF imports this module while building its settings.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` against `ApiToken` (clinic.tokens)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        resolved: tuple[Any, Any] | None = getattr(request._request, "token_auth", None)
        if resolved is not None:
            return resolved
        return super().authenticate(request)

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from clinic import tokens

        token = tokens.token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return token.user, token
