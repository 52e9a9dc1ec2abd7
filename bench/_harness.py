"""What the benchmarks share: Django set up against PostgreSQL, a throwaway
database with the project's schema, and plain-text tables.

Importing this module sets Django up, so each benchmark imports it before any
model. It refuses to run without a PostgreSQL `DATABASE_URL`: run the
benchmarks through `scripts/with-test-services`, which starts a private
PostgreSQL and exports the URL.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The test settings: a fixed SECRET_KEY, `testserver` allowed, fast password hashing.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings_test")
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    sys.exit("Run the benchmarks on PostgreSQL: scripts/with-test-services .venv/bin/python bench/<name>.py")

# As in pytest's settings: whitenoise warns that nobody ran collectstatic.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

import django  # noqa: E402  (the environment above must be set first)

django.setup()

from django.db import connection, connections  # noqa: E402


@contextlib.contextmanager
def throwaway_database() -> Iterator[None]:
    """A new database (`test_<name>`) migrated to the project's schema, dropped
    afterwards: Django's test-database machinery, so a benchmark never writes
    to the database `DATABASE_URL` names, even when pointed at a real one."""
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def environment() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    return (
        f"PostgreSQL {server_version} · Django {django.get_version()} · "
        f"Python {platform.python_version()} · {os.cpu_count()} CPUs · {platform.machine()}"
    )


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Left-aligned first column, right-aligned figures."""
    cells = [list(map(str, headers)), *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        first, *rest = row
        return "  ".join(
            [first.ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True))]
        )

    print(line(cells[0]))
    print("  ".join("-" * width for width in widths))
    for row in cells[1:]:
        print(line(row))
