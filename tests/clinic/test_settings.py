"""Settings come from the environment; check them in fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#production-like-secret-key-with-enough-entropy-0123456789abcdef",
    "ALLOWED_HOSTS": "clinic.example.com",
    "DATABASE_URL": "postgres://clinic:secret@db.example.com:5432/clinic",
    "REDIS_URL": "redis://redis.example.com:6379/0",
}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Only the basics: the test process's own settings variables must not leak in.
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "clinic.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_values() -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_settings_follow_the_environment() -> None:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DATABASES['default']['ENGINE'], str(s.DATABASES['default']['NAME']), "
        "s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'], s.TIME_ZONE]))"
    )
    embedded = json.loads(_run(["-c", code], {"DEBUG": "true", "TIME_ZONE": "Europe/Berlin"}).stdout)
    assert embedded == [
        "django.db.backends.sqlite3",
        str(ROOT / "var" / "clinic.sqlite3"),
        True,
        "memory://",
        "django.core.cache.backends.locmem.LocMemCache",
        "Europe/Berlin",
    ]
    production = json.loads(_run(["-c", code], PRODUCTION_ENV).stdout)
    assert production == [
        "clinic.db",  # Django's PostgreSQL backend, telling it the tenant scope (row-level security)
        "clinic",
        False,
        "redis://redis.example.com:6379/0",
        "clinic.cache.FailoverRedisCache",
        "America/Sao_Paulo",
    ]


def test_transaction_pooling_is_a_setting_of_the_database() -> None:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(json.dumps([d.get('POOL_MODE'), d.get('DISABLE_SERVER_SIDE_CURSORS', False), "
        "d['OPTIONS'].get('server_side_binding'), d['OPTIONS'].get('prepare_threshold')]))"
    )
    # Server-side binding and prepared statements by default, where the values may travel apart from the statement.
    assert json.loads(_run(["-c", code], PRODUCTION_ENV).stdout) == [None, False, True, 5]
    client_side = {**PRODUCTION_ENV, "DATABASE_SERVER_SIDE_BINDING": "false"}
    assert json.loads(_run(["-c", code], client_side).stdout) == [None, False, None, None]
    pooled = {**PRODUCTION_ENV, "DATABASE_POOL_MODE": "transaction"}
    assert json.loads(_run(["-c", code], pooled).stdout) == ["transaction", True, None, None]
    # Asking for both is refused when the first connection is made, with the reason.
    both = {**pooled, "DATABASE_SERVER_SIDE_BINDING": "true"}
    opening = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"
    result = _run(["-c", opening], both)
    assert result.returncode != 0
    assert "POOL_MODE 'transaction' needs client-side binding" in result.stderr
    result = _run(["-c", code], {**PRODUCTION_ENV, "DATABASE_POOL_MODE": "statement"})
    assert result.returncode != 0
    assert "DATABASE_POOL_MODE is 'session' or 'transaction'" in result.stderr
