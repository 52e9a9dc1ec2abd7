"""Token authentication that reuses the lookup TenantMiddleware already did.

Kept free of view imports: DRF imports this module while building its settings.
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication
from rest_framework.request import Request


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        resolved: tuple[Any, Any] | None = getattr(request._request, "token_auth", None)
        if resolved is not None:
            return resolved
        return super().authenticate(request)
