"""Change histories as people read them.

django-simple-history records every version of master data (patients,
services, templates, packages...). This module turns consecutive versions
into what a history page shows: who changed it (their name), when, and each
field "from → to" under its label, with values in the reader's language:
money with the clinic's currency, dates in the clinic's time zone, yes/no,
a choice by its label, a related row by its name, and structured values
(JSON) through a field's own expander ("question: answer" lines).

Every history page renders `history_entries(...)` through
`templates/includes/history.html`; the API serializes the same entries
(`field`, `old_value`, `new_value` keep the raw values for programs).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from clinic import money

EMPTY = "—"


@dataclass(frozen=True)
class FieldChange:
    """One field of one change, as people read it: `label`: `old` → `new`.
    `old` is None for a change that reads alone ("3 answers changed")."""

    field: str
    label: str
    old: str | None
    new: str
    old_value: Any = None
    new_value: Any = None


@dataclass(frozen=True)
class HistoryEntry:
    """One version: created (+), changed (~) or deleted (-), by whom and when."""

    when: dt.datetime
    user: Any
    who: str
    kind: str
    changes: list[FieldChange]

    @property
    def kind_label(self) -> str:
        return {"+": _("Created"), "-": _("Deleted")}.get(self.kind, _("Changed"))


# A field whose value is a structure: its own changes from the old and the new value.
Expander = Callable[[Any, Any], list[FieldChange]]


def money_text(value: Decimal | int | str, currency: str) -> str:
    """`1100` → "R$ 1.100,00": the grouping and decimal mark of the reader's
    language and the clinic's currency symbol."""
    amount = formats.number_format(Decimal(str(value)), 2, use_l10n=True, force_grouping=True)
    return f"{money.currency_symbol(currency or 'BRL')}\N{NO-BREAK SPACE}{amount}"


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def person_name(user: Any) -> str:
    """A user as people know them: their full name, else their login."""
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())


@dataclass
class Renderer:
    """How one model's versions read: the clinic's currency and time zone,
    which decimal fields are money, per-field formatters and expanders, who
    made a change nobody logged in made (`nobody`: a text, or a function of
    the historical record), and fields to leave out."""

    currency: str = "BRL"
    time_zone: str = settings.TIME_ZONE
    money_fields: Collection[str] = ()
    formatters: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)
    expanders: Mapping[str, Expander] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    nobody: str | Callable[[Any], str] = ""
    exclude: Collection[str] = ()

    def label(self, model_field: models.Field[Any, Any]) -> str:
        if model_field.name in self.labels:
            return str(self.labels[model_field.name])
        return str(model_field.verbose_name)[:1].upper() + str(model_field.verbose_name)[1:]

    def value(self, model_field: models.Field[Any, Any], value: Any, names: Mapping[Any, str]) -> str:
        """`value` of `model_field` for people; `names`: related rows by primary key."""
        if value is None or value == "":
            return EMPTY
        if model_field.name in self.formatters:
            return self.formatters[model_field.name](value) or EMPTY
        if model_field.is_relation:
            return names.get(value, _("(deleted)"))
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(model_field, models.BooleanField):
            return yes_no(bool(value))
        if isinstance(model_field, models.DecimalField):
            if model_field.name in self.money_fields:
                return money_text(value, self.currency)
            return formats.number_format(value, model_field.decimal_places, use_l10n=True, force_grouping=True)
        if isinstance(model_field, models.DateTimeField):
            moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            return formats.date_format(timezone.localtime(moment, ZoneInfo(self.time_zone)), "SHORT_DATETIME_FORMAT")
        if isinstance(model_field, models.DateField):
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            return formats.date_format(day, "SHORT_DATE_FORMAT")
        if isinstance(model_field, models.TimeField):
            return formats.time_format(value, "TIME_FORMAT")
        if isinstance(model_field, models.IntegerField):
            return formats.number_format(value, use_l10n=True, force_grouping=True)
        if isinstance(model_field, models.JSONField):
            return _("changed")
        return str(value)


def _related_names(
    model: type[models.Model], pairs: Sequence[tuple[Any, Any]], exclude: Collection[str]
) -> dict[str, dict[Any, str]]:
    """For each foreign key that changed in any pair, its old and new rows'
    names: one query per related model, whatever the number of versions."""
    wanted: dict[str, set[Any]] = {}
    for record, previous in pairs:
        for model_field in model._meta.concrete_fields:
            if not model_field.is_relation or model_field.name in exclude:
                continue
            old, new = getattr(previous, model_field.attname), getattr(record, model_field.attname)
            if old != new:
                wanted.setdefault(model_field.name, set()).update(v for v in (old, new) if v is not None)
    names: dict[str, dict[Any, str]] = {}
    for name, ids in wanted.items():
        related = model._meta.get_field(name).related_model
        assert isinstance(related, type)
        rows = related._default_manager.filter(pk__in=ids)
        names[name] = {row.pk: person_name(row) if hasattr(row, "get_full_name") else str(row) for row in rows}
    return names


def field_changes(
    record: Any, previous: Any, *, model: type[models.Model], renderer: Renderer, names: Mapping[str, Mapping[Any, str]]
) -> list[FieldChange]:
    """What changed from `previous` to `record` (two historical records), in
    the model's field order, through simple-history's `diff_against`."""
    delta = record.diff_against(previous, excluded_fields=list(renderer.exclude))
    by_name = {change.field: change for change in delta.changes}
    changes: list[FieldChange] = []
    for model_field in model._meta.concrete_fields:
        change = by_name.get(model_field.name)
        if change is None:
            continue
        if model_field.name in renderer.expanders:
            changes.extend(renderer.expanders[model_field.name](change.old, change.new))
            continue
        related = names.get(model_field.name, {})
        if isinstance(model_field, models.JSONField):
            changes.append(
                FieldChange(model_field.name, renderer.label(model_field), None, _("changed"), change.old, change.new)
            )
            continue
        changes.append(
            FieldChange(
                model_field.name,
                renderer.label(model_field),
                renderer.value(model_field, change.old, related),
                renderer.value(model_field, change.new, related),
                change.old,
                change.new,
            )
        )
    return changes


def _nobody(renderer: Renderer, record: Any) -> str:
    nobody = renderer.nobody(record) if callable(renderer.nobody) else renderer.nobody
    return nobody or _("automatic")


def history_entries(records: Iterable[Any], *, model: type[models.Model], renderer: Renderer) -> list[HistoryEntry]:
    """Historical records of one object, newest first (select `history_user`
    with them), as entries of a history page: a fixed number of queries,
    whatever the number of versions."""
    records = list(records)
    names = _related_names(model, list(itertools.pairwise(records)), renderer.exclude)
    entries = []
    for index, record in enumerate(records):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = field_changes(record, previous, model=model, renderer=renderer, names=names) if previous else []
        if previous is not None and record.history_type == "~" and not changes:
            continue  # a save that changed nothing people see
        user = record.history_user
        entries.append(
            HistoryEntry(
                when=record.history_date,
                user=user,
                who=person_name(user) or _nobody(renderer, record),
                kind=record.history_type,
                changes=changes,
            )
        )
    return entries
