from __future__ import annotations

import socket

import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_and_redis_up(settings) -> None:
    assert settings.REDIS_URL, "the suite runs against a real Redis (make test provides one)"
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_healthz_reports_redis_down_with_503(settings) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "redis": "error: ConnectionError"}


@pytest.mark.django_db
def test_healthz_without_redis_configured_is_healthy(settings) -> None:
    settings.REDIS_URL = ""
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["redis"] == "not configured"
