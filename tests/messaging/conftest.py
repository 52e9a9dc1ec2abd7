"""Fixtures for messages and reminders: a patient with a mobile and an
e-mail, sessions booked days ahead, the file backend in a temporary file,
and a local fake provider (the process edge)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone

from tests.ledger.conftest import book_session, foreign_patient_b, link, set_status  # noqa: F401
from tests.patients.factories import PatientFactory


@pytest.fixture
def patient(tenant_a):
    return PatientFactory(clinic=tenant_a.central, full_name="Maria Souza", mobile="+5511987654321",
                          email="maria@example.com")  # fmt: skip


@pytest.fixture
def outbox(settings, tmp_path: Path):
    """The file backend, and the lines it wrote."""
    settings.MESSAGING_BACKEND = "file"
    settings.MESSAGING_FILE = str(tmp_path / "messages.jsonl")

    def lines() -> list[dict]:
        path = Path(settings.MESSAGING_FILE)
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return lines


def soon(hours: float) -> dt.datetime:
    """A session this many hours from now, on the minute: with the clinic's
    24-hour lead time, one under 24 hours away is due now."""
    return (timezone.now() + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


def days_ahead(days: int, hour: int = 8) -> dt.datetime:
    start = timezone.localtime(timezone.now()) + dt.timedelta(days=days)
    return start.replace(hour=hour, minute=0, second=0, microsecond=0)


@dataclass
class FakeProvider:
    """A local HTTP server standing in for Twilio or WhatsApp's Cloud API."""

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    # What to answer next: (status, JSON body).
    answer: tuple[int, dict] = (201, {"sid": "SM123", "status": "queued"})


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    provider = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            provider.requests.append({"path": self.path, "headers": dict(self.headers), "body": body.decode()})
            status, payload = provider.answer
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    server.server_close()


_capture = None


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks):
    """Requests in these tests run inside the test's transaction: what they
    queue on commit (a code's message) runs when the request ends, as it would
    after a real commit (`committed`)."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def committed(send):
    """Run `send()` (a request) and then what it queued on commit."""
    if _capture is None:
        return send()
    with _capture(execute=True):
        return send()
