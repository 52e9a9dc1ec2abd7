"""What the benchmarks share: Django set up against PostgreSQL, a throwaway
database with the project's schema, and plain-text tables.

Importing this module sets Django up, so each benchmark imports it before any
model. It refuses to run without a PostgreSQL `DATABASE_URL`: run the
benchmarks through `scripts/with-test-services`, which starts a private
PostgreSQL and exports the URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The environment as the benchmark was started with, before the settings add
# their defaults (`clinic.settings_test` sets some with `os.environ.setdefault`):
# what a server the benchmark starts should inherit.
STARTING_ENVIRONMENT = dict(os.environ)
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


def source_state() -> str:
    """The commit measured, and whether the working tree (outside bench/)
    differs from it: a digest of the uncommitted changes, so two runs can
    tell whether they measured the same code."""
    git = shutil.which("git")
    if git is None:
        return "source: git not found"

    def output(*arguments: str) -> str:
        # A fixed git command in the project's directory: no outside input.
        done = subprocess.run([git, *arguments], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = output("rev-parse", "--short", "HEAD")
    if not commit:
        return f"source: {ROOT}, not a git checkout"
    changed = output("status", "--porcelain", "--", ".", ":(exclude)bench").splitlines()
    if not changed:
        return f"source: {commit}, clean outside bench/"
    diff = output("diff", "HEAD", "--", ".", ":(exclude)bench")
    digest = hashlib.sha256(diff.encode()).hexdigest()[:10]
    return f"source: {commit} + {len(changed)} uncommitted file(s) outside bench/ (diff {digest})"


def environment() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    return (
        f"PostgreSQL {server_version} · Django {django.get_version()} · "
        f"Python {platform.python_version()} · {os.cpu_count()} CPUs · {platform.machine()}\n{source_state()}"
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
