"""The reminder sweep, beside its anchor in the same run.

    scripts/with-test-services .venv/bin/python bench/reminders.py [--reminders 10000] [--workers 4]

10,000 reminders are due at once (one organization, 1,000 patients with a
mobile, one session each within the next day). Four worker processes run the
sweep at the same time (`scheduling.reminders.sweep.send_due`, the beat
job's body) through the `file` backend. Printed: messages per second, and
that each reminder was sent exactly once (lines in the file, distinct keys,
`Message` rows). The anchor: four processes appending the same number of
lines through the same backend with no database at all (what sending costs
without claiming, routing, wording and recording): the ratio says what the
sweep's bookkeeping costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import secrets
import tempfile
import time
from pathlib import Path

import _harness
from django.conf import settings
from django.db import connections
from django.db.models import Count
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic import services as clinic_services
from clinic.tenancy import organization_scope
from patients.messaging.backends import FileBackend, Outgoing
from patients.messaging.models import Message
from patients.models import Patient
from scheduling.models import Appointment
from scheduling.reminders import sweep
from scheduling.reminders.models import Reminder


def fixture(count: int) -> None:
    organization, clinic, _owner = clinic_services.organization_create(
        name="Bench reminders",
        owner_username="bench-owner",
        owner_password=secrets.token_urlsafe(16),
        clinic_name="Central",
    )
    with organization_scope(organization):
        patients = Patient.objects.bulk_create([
            Patient(organization=organization, clinic=clinic, full_name=f"Paciente {n:04d} Silva",
                    name_search=f"paciente {n:04d} silva", mobile=f"+55119{n:08d}")
            for n in range(1000)
        ])  # fmt: skip
        start = timezone.now() + dt.timedelta(hours=2)
        appointments = Appointment.objects.bulk_create([
            Appointment(organization=organization, clinic=clinic, patient=patients[n % len(patients)],
                        start=start + dt.timedelta(seconds=5 * n), end=start + dt.timedelta(seconds=5 * n + 1800))
            for n in range(count)
        ], batch_size=2000)  # fmt: skip
        # Due as booking would have made them: the clinic's 24 hours before each start.
        Reminder.objects.bulk_create([
            Reminder(organization=organization, appointment=appointment, channel="sms",
                     due_at=appointment.start - dt.timedelta(hours=clinic.reminder_hours))
            for appointment in appointments
        ], batch_size=2000)  # fmt: skip


def run_sweep(path: str) -> None:
    settings.MESSAGING_FILE = path
    connections.close_all()  # a forked process opens its own connection
    sweep.send_due()
    connections.close_all()


def run_anchor(path: str, start: int, count: int) -> None:
    settings.MESSAGING_FILE = path
    backend = FileBackend()
    for n in range(start, start + count):
        text = f"Olá Paciente, lembrete: sessão {n % 10 + 1} de 10 de Fisioterapia amanhã"
        backend.send(Outgoing(channel="sms", to=f"+55119{n:08d}", key=f"anchor-{n}", appointment=n, text=text))


def timed_processes(targets: list[tuple]) -> float:
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=target, args=args) for target, args in targets]
    began = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - began
    failed = [process.exitcode for process in processes if process.exitcode]
    if failed:
        raise SystemExit(f"a worker failed: exit codes {failed}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    arguments = parser.parse_args()
    count, workers = arguments.reminders, arguments.workers
    settings.MESSAGING_BACKEND = "file"
    with _harness.throwaway_database():
        print(_harness.environment())
        fixture(count)
        folder = Path(tempfile.mkdtemp())
        ours_path, anchor_path = str(folder / "sweep.jsonl"), str(folder / "anchor.jsonl")
        connections.close_all()
        ours = timed_processes([(run_sweep, (ours_path,)) for _ in range(workers)])
        share = count // workers
        anchor = timed_processes([(run_anchor, (anchor_path, w * share, share)) for w in range(workers)])
        lines = [json.loads(line) for line in Path(ours_path).read_text().splitlines()]
        keys = {line["key"] for line in lines}
        with scopes_disabled():
            messages = Message.objects.count()
            statuses = dict(Reminder.objects.values_list("status").annotate(n=Count("pk")).order_by())
        print(f"\n{count:,} due reminders, {workers} worker processes at once, file backend")
        _harness.print_table(
            ["run", "seconds", "messages/s"],
            [(f"sweep ({workers} workers)", f"{ours:.2f}", f"{count / ours:,.0f}"),
             (f"anchor: {workers} processes appending through the backend, no database", f"{anchor:.2f}",
              f"{share * workers / anchor:,.0f}")],
        )  # fmt: skip
        print(f"ratio sweep/anchor (messages/s): {(count / ours) / (share * workers / anchor):.3f}")
        print(f"sent once each: {len(lines):,} lines, {len(keys):,} distinct keys, {messages:,} messages; "
              f"reminders by status: {statuses}")  # fmt: skip
        if not (len(lines) == len(keys) == messages == count):
            raise SystemExit("a reminder was sent twice, or not at all")
        os.remove(ours_path)
        os.remove(anchor_path)


if __name__ == "__main__":
    main()
