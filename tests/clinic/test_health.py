from __future__ import annotations

import socket

import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_and_redis_up(settings) -> None:
    assert settings.REDIS_URL, "the suite runs against a real Redis (make test provides one)"
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "outbox_pending": 0}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_healthz_reports_redis_down_as_degraded_but_serving(settings) -> None:
    # Without Redis an instance still serves (tests/scheduling/test_faults.py):
    # it is not taken out of the load balancer, and the body says what is down.
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "error: ConnectionError",
        "outbox_pending": 0,
    }


@pytest.mark.django_db
def test_healthz_without_redis_configured_is_healthy(settings) -> None:
    settings.REDIS_URL = ""
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["redis"] == "not configured"
