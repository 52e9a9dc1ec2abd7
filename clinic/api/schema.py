"""The published schema declares every answer an operation can give.

drf-spectacular documents the success responses it infers from a view; this
`AutoSchema` adds the error answers in the API's one error shape
(`{"code", "detail", "fields"}`), from what the operation itself declares: a
request body or query parameters can be refused (400; a body in an unknown
media type, 415), an authenticated operation can be refused to an anonymous
caller (401) or to the caller's role (403), an id in the path or a page past
the last can be missing (404), a write can lose a race or break a business
rule that depends on other rows (409), and a throttled view can answer 429.
The Schemathesis run in `tests/api/test_contract.py` fails on any other answer.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from clinic.api.fields import LockedKeyField

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ERROR_DESCRIPTIONS = {
    400: _("The request is not valid: `fields` names each field's errors."),
    401: _("No valid credentials: send `Authorization: Token <token>`."),
    403: _("The caller's role does not allow this operation."),
    404: _("No such row in the caller's organization, or no such page."),
    409: _("The rows changed meanwhile or a business rule refused the operation; read them again."),
    415: _("The body's media type is not accepted (send JSON)."),
    429: _("Too many requests; `Retry-After` says when to try again."),
}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable, machine-readable error code.")
    detail = serializers.CharField(help_text="A message for people, in the caller's language.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        help_text="Per field (or `non_field_errors`), the list of its messages.",
    )

    class Meta:
        ref_name = "Error"


class ClinicAutoSchema(AutoSchema):
    def get_filter_backends(self) -> list[Any]:
        # A TenantViewSet filters its `list` only (`filter_queryset`): an
        # action that answers a list of something else (an appointment's
        # evolution notes) takes none of the list's filters.
        from clinic.api.base import TenantViewSet

        if isinstance(self.view, TenantViewSet) and getattr(self.view, "action", None) != "list":
            return []
        return list(super().get_filter_backends())

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self.error_statuses(operation):
            if str(code) not in responses:
                response = self._get_response_for_code(ErrorSerializer, str(code))
                response["description"] = str(ERROR_DESCRIPTIONS[code])
                responses[str(code)] = response
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> list[int]:
        locations = {parameter["in"] for parameter in operation.get("parameters", [])}
        has_body = "requestBody" in operation
        anonymous = any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
        statuses = set()
        if has_body or "query" in locations or self.method in UNSAFE_METHODS:
            statuses.add(400)
        if has_body:
            statuses.add(415)
        if not anonymous:
            statuses |= {401, 403}
        if "path" in locations or self._is_list_view() or (has_body and self._locks_a_row()):
            statuses.add(404)
        if self.method in UNSAFE_METHODS and not anonymous:
            statuses.add(409)
        if self.view.get_throttles():
            statuses.add(429)
        return sorted(statuses)

    def _locks_a_row(self) -> bool:
        """A body naming a row the entry point looks up under its lock (a
        `LockedKeyField`): an id it does not find answers 404."""
        serializer = self.get_request_serializer()
        if isinstance(serializer, type) and issubclass(serializer, serializers.Serializer):
            serializer = serializer()
        fields = serializer.fields if isinstance(serializer, serializers.Serializer) else {}
        return any(isinstance(field, LockedKeyField) for field in fields.values())

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(schema["pattern"], field.min_value)
        if direction == "request" and getattr(field, "allow_empty", True) is False and schema.get("type") == "array":
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema


def decimal_pattern(pattern: str, minimum: Decimal | int | float | None) -> str:
    """drf-spectacular's decimal pattern (`^-?\\d{0,10}(?:\\.\\d{0,2})?$`) says
    what the digits may be, but also matches "" and "."; and a minimum cannot
    be said of a string. Here a digit is required, the sign only where a
    negative value is accepted, and zero refused where the minimum is above it."""
    body = re.sub(r"^\^-\?", "", pattern)
    prefix = "^" if minimum is not None and minimum >= 0 else "^-?"
    prefix += r"(?=\.?\d)"
    if minimum is not None and minimum > 0:
        prefix += r"(?!0*(?:\.0*)?$)"
    return prefix + body
