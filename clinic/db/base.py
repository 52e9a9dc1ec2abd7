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

Behind a pool that hands the server connection to another client between
transactions (PgBouncer's transaction pooling; the database setting
`POOL_MODE: "transaction"`, `DATABASE_POOL_MODE` in the environment), a
session setting would follow the server connection to that other client.
The setting is then transaction-local (`set_config(..., true)`) and travels
with the statement it is for: a statement that runs on its own (autocommit)
is sent as one query with it, `SELECT set_config(...); <statement>`, which
PostgreSQL runs as one transaction and the pool on one server connection;
in a transaction, its first statement carries it, "no scope" included,
whatever another client of the pool left in the session. This needs
client-side parameter binding (Django's default: the simple query protocol,
which allows two statements in one query) and no server-side cursors, and it
rules out statements that must run outside a transaction or first in one
(`VACUUM`, `CREATE INDEX CONCURRENTLY`, `SET TRANSACTION`): run migrations
against PostgreSQL itself, in session mode.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base, features, operations
from django.utils.functional import cached_property
from django_scopes import get_scope

SETTING = "clinic.organization"
ALL = "*"
# Django's own transaction statements run as they are (one may be sent in a
# transaction that an error aborted, where nothing else can run).
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
# What `scope_setting` can say: ids, "*", or nothing (safe to write into a query as it is).
_SETTING_VALUE = re.compile(r"[0-9,]*|\*")


def scope_setting() -> str:
    """What the current django-scopes scope allows, as the setting says it."""
    scope = get_scope()
    if not scope.get("_enabled", True):
        return ALL
    organization = scope.get("organization")
    if isinstance(organization, (list, tuple)):
        return ",".join(str(int(value)) for value in organization)
    return "" if organization is None else str(int(organization))


def _is_transaction_control(sql: str) -> bool:
    return sql[:24].lstrip().upper().startswith(_TRANSACTION_CONTROL)


# PostgreSQL's limit on the parameters of one statement, which server-side
# binding meets (client-side binding writes the values into the text).
MAX_PARAMETERS = 2**16 - 1
BULK_HEADROOM = 1_000


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self) -> int | None:  # type: ignore[override]
        return MAX_PARAMETERS if self.uses_server_side_binding else None


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields: Any, objs: Any) -> int:
        """Django 5.2 sends a bulk write of any size as one statement; with
        server-side binding one over 65,535 parameters would fail, so it goes
        in batches below the limit (what later Django versions do). Most bulk
        inserts send one array per column (`UNNEST`) and never come near it."""
        limit = self.connection.features.max_query_params
        if limit is None or not fields:
            return super().bulk_batch_size(fields, objs)
        per_object = len(fields)
        if len(fields) > 2 and fields[0] is fields[1] and getattr(fields[0], "primary_key", False):
            # `bulk_update` names the key twice, then its fields: each object
            # binds a WHEN key THEN value pair per field and one IN entry.
            per_object = 2 * (len(fields) - 2) + 1
        # Room for the statement's own filters (the tenant scope, a lookup).
        return max(1, min(len(objs), (limit - BULK_HEADROOM) // per_object))


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What the connection (session pooling) or the current transaction
        # (transaction pooling) was told; None: unknown, tell it again.
        self.rls_told: str | None = None
        self.per_transaction = self.settings_dict.get("POOL_MODE", "session") == "transaction"
        if self.per_transaction and self.settings_dict["OPTIONS"].get("server_side_binding"):
            raise ImproperlyConfigured("POOL_MODE 'transaction' needs client-side binding (no server_side_binding)")
        self.execute_wrappers.append(self._tell_transaction if self.per_transaction else self._tell_scope)

    def _tell_scope(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if not _is_transaction_control(sql):
            wanted = scope_setting()
            if wanted != self.rls_told:
                self._set(wanted, local=False)
        return execute(sql, params, many, context)

    def _tell_transaction(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if _is_transaction_control(sql):
            return execute(sql, params, many, context)
        wanted = scope_setting()
        # Told once per transaction, "nothing" included: the server connection
        # may come with what another client of the pool left in its session.
        # A statement on its own is a transaction of its own.
        if not self.autocommit and wanted == self.rls_told:
            return execute(sql, params, many, context)
        if many:  # executemany sends each row on its own: the setting goes first, in a transaction
            if not self.autocommit:
                self._set(wanted, local=True)
                return execute(sql, params, many, context)
            self.set_autocommit(False)
            try:
                self._set(wanted, local=True)
                result = execute(sql, params, many, context)
            except BaseException:
                self.rollback()
                raise
            else:
                self.commit()
            finally:
                self.set_autocommit(True)
            return result
        if not _SETTING_VALUE.fullmatch(wanted):
            raise ValueError(f"not a scope setting: {wanted!r}")
        result = execute(f"SELECT set_config('{SETTING}', '{wanted}', true); {sql}", params, many, context)
        context["cursor"].cursor.nextset()  # the statement's own result
        if not self.autocommit:
            self.rls_told = wanted
        return result

    def _set(self, wanted: str, *, local: bool) -> None:
        with self.connection.cursor() as cursor:  # a plain cursor, whatever kind the statement's is
            cursor.execute("SELECT set_config(%s, %s, %s)", [SETTING, wanted, local])
        self.rls_told = wanted

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self.rls_told = None
        return super().get_new_connection(conn_params)

    def _commit(self) -> None:
        if self.per_transaction:
            self.rls_told = None  # a transaction-local setting ends with its transaction
        super()._commit()  # type: ignore[misc]

    def _rollback(self) -> None:
        self.rls_told = None
        super()._rollback()  # type: ignore[misc]

    def _savepoint_rollback(self, sid: str) -> None:
        self.rls_told = None
        super()._savepoint_rollback(sid)  # type: ignore[misc]
