"""Model instances from the rows of a hand-written statement.

The ORM compiles a queryset again on every call, and for a short lookup by key
that costs more than the query: on the path of every status change, the lock
of an appointment with its package and session unit (`scheduling.locks`) took
more Python than PostgreSQL took time. Such a statement is written once, names
each model's columns with `Columns.sql`, and turns its rows into instances with
`Columns.build`: the converters the ORM would apply (a JSON field's text parsed,
a custom field's value converted), then `Model.from_db`, as a queryset does, so
the instance is one the ORM loaded (`_state.adding` false, every concrete field
loaded, saving it an UPDATE).

Tenancy still holds: row-level security (`clinic.db.base`) admits only the
scope's rows to any statement, and a caller names its organization in the
statement too, as a scoped manager would.

The same holds for the few writes and reads every booking makes whose ORM
compile costs more than their round trip: `equal` (a row by key, a booking's
lines), `insert` and `update` (a ledger entry, a session unit, a package's
balances). Their statements are plain SQL, the same on PostgreSQL and SQLite,
built once per model (and set of columns) from `_meta`, with each value
prepared as the ORM prepares it. Like `bulk_create` and `QuerySet.update`,
the writes send no signals, so they serve only models nothing listens to
(django-simple-history listens to `save()`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, connections, transaction
from django.db.models import Field, Model, QuerySet
from django.db.models.lookups import Exact
from django_scopes import scope

from clinic.tenancy import scoped_organization

Converter = Callable[[Any, Any, Any], Any]
M = TypeVar("M", bound=Model)


class Columns(Generic[M]):
    """A model's concrete columns under a table alias, in field order."""

    def __init__(self, model: type[M], alias: str, using: str) -> None:
        fields = model._meta.concrete_fields
        connection = connections[using]
        self.model = model
        self.using = using
        self.count = len(fields)
        self.sql = ", ".join(f'{alias}."{field.column}"' for field in fields)
        self._names = [field.attname for field in fields]
        self._converters: list[tuple[int, list[Converter], Any]] = []
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            if converters:
                self._converters.append((index, converters, column))

    def build(self, values: Sequence[Any]) -> M:
        """An instance from this model's slice of a row."""
        if len(values) != self.count:
            raise ValueError(f"{self.model.__name__}: {len(values)} values for {self.count} columns")
        values = list(values)
        connection = connections[self.using]
        for index, converters, column in self._converters:
            value = values[index]
            for convert in converters:
                value = convert(value, column, connection)
            values[index] = value
        return self.model.from_db(self.using, self._names, values)


@functools.cache
def columns(model: type[M], alias: str, using: str = "default") -> Columns[M]:
    return Columns(model, alias, using)


def name(model: type[Model], field: str | None = None) -> str:
    """A model's table, or the column of one of its fields, quoted for a statement."""
    if field is None:
        return f'"{model._meta.db_table}"'
    column = model._meta.get_field(field)
    assert isinstance(column, Field)
    return f'"{column.column}"'


def lock_organization() -> int | None:
    """The organization a hand-written locking statement names: the scope's
    one organization, on a database that takes `FOR NO KEY UPDATE`. None:
    leave the lock to the ORM's statements (another database, or a scope of
    no, several or every organization, whose rules the scoped managers keep)."""
    if not transaction.get_connection().features.has_select_for_no_key_update:
        return None
    return scoped_organization()


@functools.cache
def _scoped_by_organization_alone(model: type[Model]) -> bool:
    """Whether the model's default manager, in one organization's scope,
    filters on that organization and nothing else: a hand-written read of
    "its rows in this organization" then returns what the manager would. A
    manager with rules of its own (hidden rows, say) keeps its queryset."""
    with scope(organization=0):
        where = model._default_manager.all().query.where
    if where.negated or len(where.children) != 1:
        return False
    (lookup,) = where.children
    return isinstance(lookup, Exact) and getattr(lookup.lhs, "target", None) is model._meta.get_field("organization")


@functools.cache
def _equal_sql(model: type[Model], field: str) -> str:
    shape = columns(model, "x")
    return (
        f"SELECT {shape.sql} FROM {name(model)} x "  # noqa: S608 (names from the model's metadata)
        f"WHERE x.{name(model, field)} = %s AND x.{name(model, 'organization')} = %s "
        f"ORDER BY x.{name(model, model._meta.pk.name)}"
    )


def equal(model: type[M], field: str, value: Any) -> list[M] | None:
    """The rows of `model` whose `field` is `value`, of the scope's one
    organization, in key order: `model.objects.filter(**{field: value})`,
    written once. None when that would not be the same rows (a scope of no,
    several or every organization, or a manager that filters more): the
    caller then asks its queryset."""
    organization = scoped_organization()
    if organization is None or not _scoped_by_organization_alone(model):
        return None
    connection = transaction.get_connection()
    prepared = model._meta.get_field(field).get_db_prep_value(value, connection)  # type: ignore[union-attr]
    shape = columns(model, "x", connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(_equal_sql(model, field), [prepared, organization])
        return [shape.build(row) for row in cursor.fetchall()]


@functools.cache
def _inserted_fields(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    return tuple(field for field in model._meta.concrete_fields if not field.primary_key and not field.generated)


@functools.cache
def _insert_sql(model: type[Model]) -> str:
    listed = ", ".join(f'"{field.column}"' for field in _inserted_fields(model))
    placeholders = ", ".join(["%s"] * len(_inserted_fields(model)))
    pk = model._meta.pk
    assert pk is not None
    return f'INSERT INTO {name(model)} ({listed}) VALUES ({placeholders}) RETURNING "{pk.column}"'  # noqa: S608


def insert(instance: M) -> M:
    """Insert a new row, as `Model.objects.bulk_create([instance])` does (each
    field's `pre_save` runs, `auto_now_add` included; no signals), and give
    the instance its key."""
    model = type(instance)
    assert instance._state.adding, "insert() writes a new row"
    assert instance.pk is None, "insert() leaves the key to the database"
    connection = transaction.get_connection()
    if not connection.features.can_return_columns_from_insert:
        model._default_manager.bulk_create([instance])
        return instance
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in _inserted_fields(model)]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model), values)
        (key,) = cursor.fetchone()
    instance.pk = key
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{name(model, field)} = %s" for field in names)
    key = name(model, model._meta.pk.name)
    return (
        f"UPDATE {name(model)} SET {assignments} "  # noqa: S608 (names from the model's metadata)
        f"WHERE {key} = %s AND {name(model, 'organization')} = %s"
    )


def update(instance: Model, fields: Sequence[str]) -> None:
    """Write these fields of a loaded row, as `save(update_fields=...)` would
    (each field's `pre_save` runs, `auto_now` included), with no signals, as
    `QuerySet.update` sends none. In a scope of no, several or every
    organization, for a manager that filters more than the scope, or for a
    queryset that has its own `update` (the append-only tables refuse one),
    the scoped queryset writes them. A row the update does not find (gone,
    or another organization's) raises DatabaseError, as `save` does."""
    model = type(instance)
    organization = scoped_organization()
    connection = transaction.get_connection()
    meta = model._meta
    chosen = [meta.get_field(field) for field in fields]
    values = {field.attname: field.pre_save(instance, False) for field in chosen}  # type: ignore[union-attr]
    queryset_class = model._default_manager._queryset_class  # type: ignore[attr-defined]
    plain = _scoped_by_organization_alone(model) and queryset_class.update is QuerySet.update
    if organization is None or not plain:
        written = model._default_manager.filter(pk=instance.pk).update(**values)
    else:
        prepared = [field.get_db_prep_save(values[field.attname], connection) for field in chosen]  # type: ignore[union-attr]
        with connection.cursor() as cursor:
            cursor.execute(_update_sql(model, tuple(fields)), [*prepared, instance.pk, organization])
            written = cursor.rowcount
    if written != 1:  # as `save(update_fields=...)` refuses to write nothing
        raise DatabaseError(f"{model.__name__} {instance.pk}: the update did not affect one row")
