"""`/healthz`: is this instance able to serve? Checks the database and Redis.

Without the database nothing works: 503, and the load balancer stops sending
requests here. Without Redis the instance still serves (rate limits count per
process, tasks wait in the outbox): 200 with `"status": "degraded"`, so every
instance is not taken out at once for a Redis outage, and the body says what
is down and how many tasks wait."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "not healthy"; report it
        return f"error: {type(error).__name__}"
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except Exception as error:
        return f"error: {type(error).__name__}"
    finally:
        client.close()
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, object] = {"database": _database(), "redis": _redis()}
    if checks["database"] != "ok":
        return JsonResponse({"status": "error", **checks}, status=503)
    checks["outbox_pending"] = _outbox_pending()
    degraded = checks["redis"] not in ("ok", "not configured")
    return JsonResponse({"status": "degraded" if degraded else "ok", **checks})


def _outbox_pending() -> int | str:
    from clinic import jobs

    try:
        return jobs.pending_count()
    except DatabaseError as error:  # not migrated yet
        return f"error: {type(error).__name__}"
