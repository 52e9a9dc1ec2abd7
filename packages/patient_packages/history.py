"""How a package's ledger reads to people: the history table of seed 001
(type, date, status, note, session balance, money balance, average value),
in the reader's language and the clinic's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import gettext as _

from clinic.formats import format_when
from clinic.history import FieldChange
from packages.catalog.templatetags.catalog_tags import money as money_display
from packages.patient_packages.models import EntryKind, LedgerEntry, PackageStatus

_FIELD_LABELS = {
    "sessions_total": lambda: _("sessions"),
    "amount_total": lambda: _("total value"),
    "paid_at": lambda: _("payment date"),
    "status": lambda: _("status"),
    "notes": lambda: _("notes"),
    "deleted": lambda: _("deleted"),
    "limits": lambda: _("budget limits"),
    "limits.max_appointments": lambda: _("limit of appointments"),
    "limits.max_amount": lambda: _("limit in total"),
}
# Limits of one service: named with the service.
_SERVICE_FIELD_LABELS = {
    "limits.service_quantity": lambda name: _("limit of %(service)s") % {"service": name},
    "limits.service_amount": lambda name: _("limit for %(service)s") % {"service": name},
}


def _field_label(change: dict[str, Any]) -> str:
    field = change["field"]
    if field in _SERVICE_FIELD_LABELS:
        return _SERVICE_FIELD_LABELS[field](change.get("service_name", ""))
    return _FIELD_LABELS[field]() if field in _FIELD_LABELS else field


def _session(entry: LedgerEntry, tz: ZoneInfo) -> str:
    # "01/04 10:00", "Apr 1 10:00 AM": the reader's day, month and time.
    local = dt.datetime.fromisoformat(entry.details["session"]).astimezone(tz)
    return f"{format_when(local, 'DAY_MONTH_FORMAT')} {format_when(local, 'TIME_FORMAT')}"


def _session_texts() -> dict[str, str]:
    """The notes of the session entries in the active language (read once per
    chunk of rows: an export writes hundreds of thousands)."""
    return {
        EntryKind.RESERVE: _("Booked for session %(session)s"),
        EntryKind.RELEASE: _("Released by session %(session)s"),
        EntryKind.DEBIT: _("Debited by session %(session)s"),
        EntryKind.CREDIT: _("Credited by session %(session)s"),
    }


# Fields whose values are money, shown with the clinic's currency.
_MONEY_FIELDS = {"amount_total", "limits.max_amount", "limits.service_amount"}


def _value(field: str, value: Any, currency: str = "BRL") -> str:
    if value in (None, ""):
        return "—"
    if field in _MONEY_FIELDS:
        try:
            return money_display(Decimal(str(value)), currency)
        except (ArithmeticError, ValueError):
            return str(value)
    if field == "paid_at":
        try:
            return formats.date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
        except ValueError:
            return str(value)
    if field == "status" and value in PackageStatus.values:
        return str(PackageStatus(value).label).lower()
    if field == "limits":
        return _("grow with the sessions") if value == "grow" else _("stay as they were")
    if value in (True, False):
        return _("yes") if value else _("no")
    return str(value)


def field_change(change: dict[str, Any], currency: str) -> FieldChange:
    """One field of a manual change (`details["changes"]`), as the shared
    history renderer shows it; a decision with no before ("budget limits:
    stay as they were") reads alone."""
    field = change["field"]
    after = _value(field, change.get("to"), currency)
    before = None if field == "limits" or "from" not in change else _value(field, change.get("from"), currency)
    return FieldChange(field, _field_label(change), before, after, change.get("from"), change.get("to"))


def _change(change: dict[str, Any], currency: str) -> str:
    """ "sessions: 10 → 12", "total value: R$ 1.000,00 → R$ 1.100,00" (R2)."""
    rendered = field_change(change, currency)
    if rendered.old is None:
        return f"{rendered.label}: {rendered.new}"
    return f"{rendered.label}: {rendered.old} \N{RIGHTWARDS ARROW} {rendered.new}"


def entry_note(
    entry: LedgerEntry, tz: ZoneInfo, currency: str = "BRL", session_texts: dict[str, str] | None = None
) -> str:
    """The history's "note" column: "Debited by session 01/04 10:00",
    "Package changed: status: inactive"..."""
    kind = entry.kind
    if kind == EntryKind.CREATED:
        text = _("Package created")
    elif kind in (EntryKind.RESERVE, EntryKind.RELEASE, EntryKind.DEBIT, EntryKind.CREDIT):
        texts = session_texts or _session_texts()
        text = texts[kind] % {"session": _session(entry, tz)}
    elif kind == EntryKind.MANUAL_CHANGE:
        changes = ", ".join(_change(change, currency) for change in entry.details.get("changes", []))
        text = _("Package changed: %(changes)s") % {"changes": changes}
    elif kind == EntryKind.RENEWAL:
        period = dt.date.fromisoformat(entry.details["period"])
        text = _("Renewed for %(month)s") % {"month": formats.date_format(period, "YEAR_MONTH_FORMAT")}
    else:
        text = str(EntryKind(kind).label)
    return f"{text} — {entry.note}" if entry.note else text


@dataclass(frozen=True)
class HistoryRow:
    """One row of a package's history table."""

    kind: str
    kind_label: str
    created_at: dt.datetime
    status: str
    status_label: str
    note: str
    sessions_balance: int
    amount_balance: Decimal
    average_price: Decimal
    session: int | None
    actor: Any
    # A manual change's fields, "label: from → to", for the page's list, and
    # the note's words around them ("Package changed:", the staff's remark).
    changes: tuple[FieldChange, ...] = ()
    title: str = ""
    remark: str = ""


def history_rows(entries: list[LedgerEntry], tz: ZoneInfo, currency: str = "BRL") -> list[HistoryRow]:
    # The labels of a kind and a status are the same on every row: read once
    # (an export writes hundreds of thousands of rows).
    kinds = {kind.value: str(kind.label) for kind in EntryKind}
    statuses = {status.value: str(status.label) for status in PackageStatus}
    texts = _session_texts()
    return [
        HistoryRow(
            kind=entry.kind,
            kind_label=kinds[entry.kind],
            created_at=entry.created_at,
            status=entry.status,
            status_label=statuses[entry.status],
            note=entry_note(entry, tz, currency, texts),
            sessions_balance=entry.sessions_balance,
            amount_balance=entry.amount_open,
            average_price=entry.average_price,
            session=entry.session,
            actor=entry.actor,
            **_manual_change(entry, currency),
        )
        for entry in entries
    ]


def _manual_change(entry: LedgerEntry, currency: str) -> dict[str, Any]:
    if entry.kind != EntryKind.MANUAL_CHANGE or not entry.details.get("changes"):
        return {}
    return {
        "changes": tuple(field_change(change, currency) for change in entry.details["changes"]),
        # The note's own words, so the page reads as the note does.
        "title": (_("Package changed: %(changes)s") % {"changes": ""}).strip(),
        "remark": entry.note,
    }
