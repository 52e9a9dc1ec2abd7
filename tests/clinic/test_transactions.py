"""Entry points (`clinic.transactions`): one durable transaction, run again
when PostgreSQL reports a deadlock or a serialization failure, 409 when the
attempts run out, never a 500."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from clinic.models import Organization
from clinic.transactions import ATTEMPTS, Busy, Retry, entry_point, require_transaction
from tests.factories import OrganizationFactory


class _Cause(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _database_error(sqlstate: str) -> OperationalError:
    error = OperationalError(f"sqlstate {sqlstate}")
    error.__cause__ = _Cause(sqlstate)
    return error


@pytest.mark.django_db
@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_runs_the_use_case_again(sqlstate: str) -> None:
    attempts = []

    @entry_point
    def use_case() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise _database_error(sqlstate)
        return "done"

    assert use_case() == "done"
    assert len(attempts) == 3


@pytest.mark.django_db
def test_when_the_attempts_run_out_the_caller_gets_a_409() -> None:
    attempts = []

    @entry_point
    def use_case() -> None:
        attempts.append(1)
        raise Retry()

    with pytest.raises(Busy) as error:
        use_case()
    assert (error.value.code, error.value.status) == ("conflict", 409)
    assert len(attempts) == ATTEMPTS


@pytest.mark.django_db
def test_other_database_errors_are_not_retried() -> None:
    attempts = []

    @entry_point
    def use_case() -> None:
        attempts.append(1)
        raise _database_error("53300")  # too many connections: retrying would not help

    with pytest.raises(OperationalError):
        use_case()
    assert len(attempts) == 1


@pytest.mark.django_db(transaction=True)
def test_an_entry_point_is_the_outermost_transaction() -> None:
    @entry_point
    def use_case() -> None:
        return None

    use_case()  # on its own: fine
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        use_case()  # glued into a caller's transaction: refused


@pytest.mark.django_db(transaction=True)
def test_a_step_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside an entry point"):
        require_transaction()
    with transaction.atomic():
        require_transaction()


@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_run_again_and_both_use_cases_succeed() -> None:
    """Two use cases that lock two rows in opposite orders: PostgreSQL breaks
    the deadlock by failing one of them, which runs again and succeeds."""
    assert connection.vendor == "postgresql"
    first, second = OrganizationFactory(name="Row 1"), OrganizationFactory(name="Row 2")
    both_hold_one = threading.Barrier(2)
    attempts: dict[str, int] = {"a": 0, "b": 0}
    results: dict[str, object] = {}

    def lock_in_order(name: str, ids: tuple[int, int]) -> None:
        @entry_point
        def use_case() -> str:
            attempts[name] += 1
            Organization.objects.select_for_update().get(pk=ids[0])
            if attempts[name] == 1:
                both_hold_one.wait(timeout=10)  # only the first time: the retry runs alone
            Organization.objects.select_for_update().get(pk=ids[1])
            return "done"

        try:
            results[name] = use_case()
        except Exception as error:  # collected and asserted below
            results[name] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=lock_in_order, args=("a", (first.pk, second.pk))),
        threading.Thread(target=lock_in_order, args=("b", (second.pk, first.pk))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {"a": "done", "b": "done"}
    assert sorted(attempts.values()) == [1, 2]  # one of them lost the deadlock once
