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
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections, transaction
from django.db.models import Field, Model

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
