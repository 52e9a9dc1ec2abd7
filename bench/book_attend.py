"""SQL statements per booking and per debit, the in-process cost of a
book + attend pair, and (optionally) a profile of those pairs.

    scripts/with-test-services .venv/bin/python bench/book_attend.py [--api] [--pairs N] [--profile FILE]

After one untimed pair (caches warm), it prints every SQL statement of one
`scheduling.services.appointment_book` with a package (reserving a session)
and of one `appointment_set_status(status="attended")` (debiting it), captured
with `django.test.utils.CaptureQueriesContext`, each in short form (the select
list and the insert columns elided, table names dropped from columns, cut at
about 100 characters, its row lock kept) with the innermost project function
that issued it (and its caller). With `--api` it prints the same for `POST
/api/v1/appointments/` and `PATCH {"status": "attended"}` through
`django.test.Client` (middleware, authentication, DRF; no server, no network).

Then it times `--pairs` book + attend pairs (200 by default) in this process,
through the services (and, with `--api`, through the test client), and prints
pairs per second and milliseconds per call. With `--profile FILE` those pairs
run under pyinstrument when it is installed, else cProfile (sorted by
cumulative time), and the text report goes to FILE. pyinstrument is not a
project dependency: install it into the venv for a run,
`.venv/bin/pip install pyinstrument`; the profiler's own overhead inflates the
timed figures, so read them from a run without --profile.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import io
import json
import pstats
import re
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _fixtures  # first: sets Django up (through _harness)
import _harness
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic import tokens
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from patients.models import Patient
from scheduling.package_sessions import sessions_reconcile

SESSIONS = 1_000  # per package (the most one holds): room for the pairs of a run (--pairs up to 490)
SHORT = 100  # characters of a statement's short form
PROJECT = str(_harness.ROOT) + "/"
NOT_PROJECT = (PROJECT + ".venv/", PROJECT + "bench/")


# Capturing statements with the function that issued each


@dataclass
class Statement:
    sql: str
    origin: str


def _origin(depth: int = 2) -> str:
    """The innermost frames of the project's code (not Django's, not the
    benchmark's): the function that issued the statement, and its caller."""
    frames = [
        f"{frame.filename.removeprefix(PROJECT)}:{frame.lineno} {frame.name}"
        for frame in reversed(traceback.extract_stack())
        if frame.filename.startswith(PROJECT) and not frame.filename.startswith(NOT_PROJECT)
    ]
    return " ← ".join(frames[:depth]) or "?"


@contextlib.contextmanager
def capture() -> Iterator[list[Statement]]:
    """Every statement, as `CaptureQueriesContext` logs it, with its origin
    from an execute wrapper. BEGIN and COMMIT are logged by Django's
    transaction code, not executed through a cursor: their origin is the
    outermost atomic block (an entry point's)."""
    statements: list[Statement] = []
    origins: list[tuple[str, str]] = []

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        origins.append((sql, _origin()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper), CaptureQueriesContext(connection) as captured:
        yield statements
    pending = iter(origins)
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append(Statement(sql, "transaction.atomic(durable=True) of the entry point"))
            continue
        raw, origin = next(pending, ("", "?"))
        statements.append(Statement(sql, origin if raw.split()[:1] == sql.split()[:1] else "?"))


def short(sql: str, width: int = SHORT) -> str:
    """A statement in a line: table names dropped from qualified columns, the
    select list and insert columns elided, cut at `width`, its lock kept."""
    text = re.sub(r'"\w+"\."(\w+)"', r"\1", sql).replace('"', "")
    text = re.sub(r"^SELECT (.+?) FROM ", lambda m: f"SELECT {_count(m.group(1))} FROM ", text, count=1)  # noqa: S608 (display only)
    text = re.sub(
        r"^INSERT INTO (\S+) \((.*?)\) VALUES \(.*?\)( RETURNING .*)?$",
        lambda m: f"INSERT INTO {m.group(1)} ({_count(m.group(2))}) VALUES (…){m.group(3) or ''}",  # noqa: S608
        text,
        flags=re.DOTALL,
    )
    lock = re.search(r" FOR (NO KEY )?UPDATE.*$", text)
    if len(text) > width:
        text = text[:width] + "…" + (lock.group(0) if lock else "")
    return text


def _count(columns: str) -> str:
    n = columns.count(",") + 1
    return columns if n <= 3 else f"<{n} columns>"


def print_statements(title: str, statements: list[Statement]) -> None:
    print(f"\n{title}: {len(statements)} statements")
    for n, statement in enumerate(statements, 1):
        print(f"  {n:2d}. {short(statement.sql)}")
        print(f"      ← {statement.origin}")


# Book + attend, through the services or the API


@dataclass
class Pair:
    """One patient's package to book and attend against, through the services
    or, with a test client authenticated by token, through the API."""

    tenant: _fixtures.Tenant
    patient: Patient
    package: PatientPackage
    client: Client | None = None
    attended: int = 0  # pairs done, for the reconciliation

    def book(self) -> Any:
        """The new appointment (the service's) or its id (the API's)."""
        if self.client is None:
            return _fixtures.book(self.tenant, self.patient, self.package)
        start = self.tenant.next_slot
        self.tenant.next_slot += dt.timedelta(minutes=_fixtures.SLOT_MINUTES)
        body = {
            "patient": self.patient.pk,
            "professional": self.tenant.professional.pk,
            "start": start.isoformat(),
            "services": [{"service": self.tenant.service.pk}],
            "patient_package": self.package.pk,
        }
        response = self.client.post("/api/v1/appointments/", data=json.dumps(body), content_type="application/json")
        if response.status_code != 201:
            raise RuntimeError(f"POST {response.status_code}: {response.content[:200]!r}")
        return response.json()["id"]

    def attend(self, appointment: Any) -> None:
        if self.client is None:
            _fixtures.attend(self.tenant, appointment)
            return
        response = self.client.patch(
            f"/api/v1/appointments/{appointment}/", data=json.dumps({"status": "attended", "confirm_future": True}),
            content_type="application/json",
        )  # fmt: skip
        if response.status_code != 200:
            raise RuntimeError(f"PATCH {response.status_code}: {response.content[:200]!r}")


@dataclass
class Timing:
    through: str
    pairs: int
    book_seconds: float = 0.0
    attend_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return self.book_seconds + self.attend_seconds


def run_pairs(pair: Pair, count: int, through: str) -> Timing:
    timing = Timing(through, count)
    clock = time.perf_counter
    for _ in range(count):
        began = clock()
        appointment = pair.book()
        booked = clock()
        pair.attend(appointment)
        pair.attended += 1
        timing.book_seconds += booked - began
        timing.attend_seconds += clock() - booked
    return timing


ROUNDS = 5


def trivial_gets(client: Client | None, count: int) -> float:
    """Seconds for `count` trivial authenticated reads (`booking_throughput.py`'s anchor)."""
    assert client is not None
    began = time.perf_counter()
    for _ in range(count):
        response = client.get("/api/v1/clinics/")
        if response.status_code != 200:
            raise RuntimeError(f"GET {response.status_code}: {response.content[:200]!r}")
    return time.perf_counter() - began


def profiled(run: Callable[[], Timing], profiler: str, path: Path) -> Timing:
    """`run` under pyinstrument (or cProfile), its text report written to `path`."""
    if profiler in ("auto", "pyinstrument"):
        try:
            from pyinstrument import Profiler
        except ImportError:
            if profiler == "pyinstrument":
                raise SystemExit("pyinstrument is not installed: .venv/bin/pip install pyinstrument") from None
        else:
            with Profiler(interval=0.0005) as session:
                timing = run()
            path.write_text(session.output_text(unicode=True, color=False, show_all=False, short_mode=False))
            return timing
    profile = cProfile.Profile()
    timing = profile.runcall(run)
    profile.dump_stats(path.with_suffix(".pstats"))  # for pstats, snakeviz...
    report = io.StringIO()
    stats = pstats.Stats(profile, stream=report).strip_dirs()
    report.write("cProfile, sorted by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(80)
    report.write("\ncProfile, sorted by own time\n")
    stats.sort_stats("tottime").print_stats(40)
    path.write_text(report.getvalue())
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=200, help="book + attend pairs to time (default 200)")
    parser.add_argument("--api", action="store_true", help="also through the API (django.test.Client)")
    parser.add_argument("--profile", type=Path, metavar="FILE", help="profile the pairs, text report to FILE")
    parser.add_argument("--profiler", choices=["auto", "pyinstrument", "cprofile"], default="auto")
    args = parser.parse_args()
    if args.pairs > 490:
        parser.error("--pairs: at most 490 (the api's package books twice that, and holds at most 1,000 sessions)")
    throughs = ["service", "api"] if args.api else ["service"]

    titles = {
        "service": ("appointment_book with a package (reserve)", 'appointment_set_status(status="attended") (debit)'),
        "api": (
            "POST /api/v1/appointments/ with the package (test client)",
            'PATCH /api/v1/appointments/<id>/ {"status": "attended"} (test client)',
        ),
    }

    with _harness.throwaway_database():
        print(_harness.environment())
        tenant = _fixtures.tenant_create()
        token = tokens.token_issue(user=tenant.owner, name="bench")[1]
        with organization_scope(tenant.organization):
            pairs = {}
            for through in throughs:
                patient, package = _fixtures.patient_with_package(tenant, sessions=SESSIONS)
                client = Client(headers={"Authorization": f"Token {token}"}) if through == "api" else None
                pair = pairs[through] = Pair(tenant, patient, package, client)
                run_pairs(pair, 1, through)  # warm: URLconf, DRF, the ORM's caches
                with capture() as booking:
                    appointment = pair.book()
                with capture() as debit:
                    pair.attend(appointment)
                pair.attended += 1
                book_title, attend_title = titles[through]
                print_statements(book_title, booking)
                print_statements(attend_title, debit)

            print()
            timings = []
            for through, pair in pairs.items():
                run = functools.partial(run_pairs, pair, args.pairs, through)
                if args.profile:
                    path = args.profile if through == "service" else args.profile.with_stem(args.profile.stem + "_api")
                    timings.append(profiled(run, args.profiler, path))
                    print(f"profile of {args.pairs} pairs through the {through}: {path}")
                else:
                    timings.append(run())
            if "api" in pairs and not args.profile:
                # booking_throughput.py's ratio, in process: the same test client's
                # trivial GET, in rounds alternating with the pairs (load changes
                # meanwhile fall on both).
                gets = pair_seconds = 0.0
                for _ in range(ROUNDS):
                    gets += trivial_gets(pairs["api"].client, args.pairs // ROUNDS)
                    pair_seconds += run_pairs(pairs["api"], args.pairs // ROUNDS, "api").seconds
                print(
                    f"in process, {ROUNDS} alternating rounds: {ROUNDS * (args.pairs // ROUNDS)} GET /api/v1/clinics/ "
                    f"at {1000 * gets / (ROUNDS * (args.pairs // ROUNDS)):.1f} ms each, as many book + attend pairs "
                    f"through the api at {1000 * pair_seconds / (ROUNDS * (args.pairs // ROUNDS)):.1f} ms: "
                    f"ratio {gets / pair_seconds:.3f} (booking_throughput.py measures it on gunicorn)"
                )
            _harness.print_table(
                ["book + attend", "pairs", "seconds", "pairs/s", "ms per booking", "ms per attend"],
                [
                    (f"through the {t.through}", t.pairs, f"{t.seconds:.2f}", f"{t.pairs / t.seconds:.1f}",
                     f"{1000 * t.book_seconds / t.pairs:.1f}", f"{1000 * t.attend_seconds / t.pairs:.1f}")
                    for t in timings
                ],
            )  # fmt: skip
            if args.profile:
                print("(under the profiler: its overhead is in these figures)")

            problems = []
            for pair in pairs.values():
                drift, sessions = ledger.package_reconcile(pair.package), sessions_reconcile(pair.package)
                if drift.differences or sessions.differences:
                    problems.append(f"{pair.package.number}: {drift.differences} {sessions.differences}")
                elif pair.package.sessions_used != pair.attended:
                    problems.append(f"{pair.package.number}: {pair.package.sessions_used} used, {pair.attended} pairs")
        print(
            f"\nreconcile: {len(pairs)} package(s), "
            + ("; ".join(problems) if problems else "each agrees with its ledger, its usages and its appointments")
        )
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
