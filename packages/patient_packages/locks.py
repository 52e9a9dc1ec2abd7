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

import functools
from collections.abc import Iterable

from django.db import transaction

from clinic.db.rows import columns, lock_organization, name
from clinic.transactions import require_transaction
from packages.patient_packages.models import LIVE_STATES, PackageUsage, PatientPackage

_MARK = "_locked_in"


def _transaction() -> object:
    """The transaction a lock lives as long as: the outermost atomic block of
    this connection that is not a test case's own (in a test, each entry point
    is a savepoint inside the test's transaction, and a lock taken by an
    earlier one must not count)."""
    blocks = transaction.get_connection().atomic_blocks
    return next((block for block in blocks if not getattr(block, "_from_testcase", False)), blocks[0])


@functools.cache
def _packages_sql() -> str:
    package = PatientPackage
    return (
        f"SELECT {columns(package, 'p').sql} FROM {name(package)} p "  # noqa: S608 (names from the model's metadata)
        f"WHERE p.{name(package, 'id')} = ANY(%s) AND p.{name(package, 'organization')} = %s "
        f"ORDER BY p.{name(package, 'id')} FOR NO KEY UPDATE"
    )


def lock_packages(ids: Iterable[int]) -> dict[int, PatientPackage]:
    """The packages, locked in primary-key order. Missing ids (another
    organization's, or deleted meanwhile) are simply absent.

    In one organization's scope on PostgreSQL (every entry point), the
    statement is written by hand: on the path of every booking, compiling the
    queryset cost more Python than the lock took (`clinic.db.rows`)."""
    require_transaction()
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    organization = lock_organization()
    if organization is not None:
        shape = columns(PatientPackage, "p")
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(_packages_sql(), [wanted, organization])
            return {package.pk: held(package) for package in map(shape.build, cursor.fetchall())}
    rows = PatientPackage.objects.select_for_update(no_key=True).filter(pk__in=wanted)
    rows = rows.order_by("pk") if len(wanted) > 1 else rows.order_by()
    return {package.pk: held(package) for package in rows}


def held(package: PatientPackage) -> PatientPackage:
    """Mark a package row as locked in this transaction. For `lock_packages`,
    and for a caller that locked the row in a statement of its own, in the
    project's order (`scheduling.locks` locks one appointment and its package
    together)."""
    require_transaction()
    setattr(package, _MARK, _transaction())
    return package


def lock_live_usages(sessions: Iterable[int]) -> dict[int, PackageUsage]:
    """The live (reserved or debited) units of these sessions, locked in
    primary-key order, by session. Call it after locking their packages."""
    require_transaction()
    wanted = sorted(set(sessions))
    if not wanted:
        return {}
    rows = PackageUsage.objects.select_for_update(no_key=True).filter(session__in=wanted, state__in=LIVE_STATES)
    rows = rows.order_by("pk") if len(wanted) > 1 else rows.order_by()
    return {usage.session: usage for usage in rows}


def is_locked(package: PatientPackage) -> bool:
    connection = transaction.get_connection()
    return bool(connection.atomic_blocks) and getattr(package, _MARK, None) is _transaction()


def require_locked(package: PatientPackage) -> None:
    if not is_locked(package):
        raise RuntimeError(f"package {package.pk} must be locked first (packages.patient_packages.locks)")
