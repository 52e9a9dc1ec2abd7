"""Row locks on patient packages and their session units.

The project locks in one order (`scheduling.locks` takes the appointments
first): packages in primary-key order, then the session units (usages) in
primary-key order. Two transactions that lock the same rows in the same order
queue instead of deadlocking, as saleor's `lock_objects` does.

The locks are `FOR NO KEY UPDATE`, the lock an `UPDATE` of non-key columns
takes: it excludes every other locker and writer of the row, but not the
`FOR KEY SHARE` lock that inserting a row referencing it takes (a ledger
entry, a usage, an appointment linked to the package), so inserting those
never waits on, or deadlocks with, the package lock.

A locked instance is marked, and the consumption and ledger steps refuse an
instance that was not locked in this transaction (`require_locked`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from clinic.transactions import require_transaction
from packages.patient_packages.models import PackageUsage, PatientPackage, UsageState

_MARK = "_locked_in"
LIVE = (UsageState.RESERVED, UsageState.DEBITED)


def _transaction_key() -> int:
    # The outermost atomic block of this connection: a lock lives as long as it.
    return id(transaction.get_connection().atomic_blocks[0])


def lock_packages(ids: Iterable[int]) -> dict[int, PatientPackage]:
    """The packages, locked in primary-key order. Missing ids (another
    organization's, or deleted meanwhile) are simply absent."""
    require_transaction()
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = PatientPackage.objects.select_for_update(no_key=True).filter(pk__in=wanted)
    rows = rows.order_by("pk") if len(wanted) > 1 else rows.order_by()
    key = _transaction_key()
    packages = {}
    for package in rows:
        setattr(package, _MARK, key)
        packages[package.pk] = package
    return packages


def lock_live_usages(sessions: Iterable[int]) -> dict[int, PackageUsage]:
    """The live (reserved or debited) units of these sessions, locked in
    primary-key order, by session. Call it after locking their packages."""
    require_transaction()
    wanted = sorted(set(sessions))
    if not wanted:
        return {}
    rows = PackageUsage.objects.select_for_update(no_key=True).filter(session__in=wanted, state__in=LIVE)
    rows = rows.order_by("pk") if len(wanted) > 1 else rows.order_by()
    return {usage.session: usage for usage in rows}


def is_locked(package: PatientPackage) -> bool:
    connection = transaction.get_connection()
    return bool(connection.atomic_blocks) and getattr(package, _MARK, None) == _transaction_key()


def require_locked(package: PatientPackage) -> None:
    if not is_locked(package):
        raise RuntimeError(f"package {package.pk} must be locked first (packages.patient_packages.locks)")
