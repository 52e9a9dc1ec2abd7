"""Entry points: one use case, one outermost transaction, retried when the
database asks for it.

A use case that staff perform (book, move, change a status, delete a package,
link a package with its dates...) is a function decorated `@entry_point`. It
runs in `transaction.atomic(durable=True)`: it is the outermost transaction,
so no caller can glue two use cases into a half-committed pair (zulip's
action layer does the same). Composing two use cases is a new entry point
that calls their steps, not the two entry points.

Every entry point takes its row locks in the project's one order (see
`scheduling.locks`), so deadlocks between them should not happen. Should the
database still report one (`40P01`), or a serialization failure (`40001`),
the whole use case is tried again from the start, up to `ATTEMPTS` times; a
step that finds the rows it locked are not the ones it needs (a booking was
added to a package while it was waiting for the lock) raises `Retry` for the
same effect. When the attempts run out, the caller gets `Conflict` (409),
never a 500. A refusal (`ApplicationError`) leaves the use case after its
transaction is rolled back, and may then describe itself
(`ApplicationError.after_rollback`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, transaction
from django.utils.translation import gettext_lazy as _

from clinic.errors import ApplicationError, Conflict

P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS = 4
# PostgreSQL's codes for "try the transaction again".
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure

logger = logging.getLogger(__name__)


class Retry(Exception):
    """Raised inside an entry point to run it again from the start."""


class Busy(Conflict):
    code = "conflict"
    default_detail = _("Someone else was changing the same records. Try again.")


def is_retryable(error: BaseException) -> bool:
    cause = error.__cause__
    return isinstance(error, Retry) or getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def entry_point(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` as one durable transaction, retried on deadlock,
    serialization failure or `Retry`."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with transaction.atomic(durable=True):
                    return function(*args, **kwargs)
            except (OperationalError, Retry) as error:
                if not is_retryable(error):
                    raise
                logger.info("%s: attempt %s of %s lost a race (%s)", function.__qualname__, attempt, ATTEMPTS, error)
                if attempt == ATTEMPTS:
                    raise Busy() from error
            except ApplicationError as error:
                error.after_rollback()
                raise
        raise AssertionError("unreachable")

    return run


def require_transaction() -> None:
    """Steps of an entry point lock rows: outside a transaction the locks
    would be released at once. Calling one on its own is a bug."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("this step runs inside an entry point's transaction")
