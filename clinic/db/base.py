"""Django's PostgreSQL backend, telling PostgreSQL whose rows this connection may see.

Every tenant table has a row-level security policy (`clinic.rls`) that
admits only the rows of the organizations named in the connection's
`clinic.organization` setting: an organization id (a request, a task), `*`
(code that opened `scopes_disabled()` on purpose: logins, commands,
migrations), or nothing (no scope: no tenant row at all, even to raw SQL).

The setting follows django-scopes' current scope, which the tenancy
middleware and every task open: before a statement runs, the wrapper below
compares the scope with what the connection was last told and, only when they
differ, sends `set_config` first (one statement per change of scope, not per
query). A rollback may undo a `set_config` made inside the transaction, so
after one the connection is told again. Superusers and roles with BYPASSRLS
are not subject to the policies (the test suite's `postgres` is one; the RLS
test switches to a plain role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.backends.postgresql import base
from django_scopes import get_scope

SETTING = "clinic.organization"
ALL = "*"
# Django's own transaction statements run as they are (one may be sent in a
# transaction that an error aborted, where nothing else can run).
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def scope_setting() -> str:
    """What the current django-scopes scope allows, as the setting says it."""
    scope = get_scope()
    if not scope.get("_enabled", True):
        return ALL
    organization = scope.get("organization")
    if isinstance(organization, (list, tuple)):
        return ",".join(str(int(value)) for value in organization)
    return "" if organization is None else str(int(organization))


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rls_told: str | None = None  # None: unknown, tell it before the next statement
        self.execute_wrappers.append(self._tell_scope)

    def _tell_scope(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if not sql[:24].lstrip().upper().startswith(_TRANSACTION_CONTROL):
            wanted = scope_setting()
            if wanted != self.rls_told:
                with self.connection.cursor() as cursor:  # a plain cursor, whatever kind the statement's is
                    cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, wanted])
                self.rls_told = wanted
        return execute(sql, params, many, context)

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self.rls_told = None
        return super().get_new_connection(conn_params)

    def _rollback(self) -> None:
        self.rls_told = None
        super()._rollback()  # type: ignore[misc]

    def _savepoint_rollback(self, sid: str) -> None:
        self.rls_told = None
        super()._savepoint_rollback(sid)  # type: ignore[misc]
