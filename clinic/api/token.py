"""Token authentication: `POST /api/v1/auth/token/` with username and password
(and a name for the token) returns a new token, sent as
``Authorization: Token <token>``; `GET /api/v1/auth/tokens/` lists the
caller's tokens and `DELETE /api/v1/auth/tokens/{id}/` revokes one.

Logging in is limited per IP (30 a minute) and per account (10 a minute,
whatever the IP: a password guessed from many addresses), both answered 429
with `Retry-After`; ten failed logins lock the username out from that IP
for a quarter of an hour (django-axes)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from clinic import tokens
from clinic.api.base import url_key
from clinic.api.fields import CharField, IntegerField
from clinic.errors import ValidationFailed
from clinic.models import ApiToken


class TokenRequestSerializer(serializers.Serializer):
    username = CharField()
    password = CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = CharField(
        required=False, max_length=100, default="API", help_text="What the token is for, as its list shows it."
    )


class TokenThrottle(AnonRateThrottle):
    """Per IP address."""

    rate = "30/min"


class TokenAccountThrottle(SimpleRateThrottle):
    """Per account: the username asked for, from any address."""

    scope = "token-account"
    rate = "10/min"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        username = data.get("username")
        if not isinstance(username, str) or not username.strip():
            return None
        ident = hashlib.sha256(username.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ObtainTokenView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle, TokenAccountThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer("TokenResponse", {"token": CharField(), "id": IntegerField()}),
        tags=["auth"],
        summary="Exchange a username and password for an API token",
    )
    def post(self, request: Request) -> Response:
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = authenticate(
            request=request._request,
            username=payload.validated_data["username"],
            password=payload.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise ValidationFailed(
                _("Unable to log in with the given username and password."), code="invalid_credentials"
            )
        token, key = tokens.token_issue(user=user, name=payload.validated_data["name"])
        return Response({"token": key, "id": token.pk})


class ApiTokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="Whether this request was made with it.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "current"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        auth = self.context["request"].auth
        return isinstance(auth, ApiToken) and auth.pk == token.pk


@extend_schema(tags=["auth"])
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens: list them, revoke one (another user's
    reads as missing). Revoking the one in use logs this client out."""

    serializer_class = ApiTokenSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)  # type: ignore[misc]

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        tokens.token_revoke(user=request.user, token_id=url_key(kwargs["pk"]))  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
