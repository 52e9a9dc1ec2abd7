"""The cache, surviving Redis.

What this app keeps in the cache is rate-limit counters (the token endpoint's
throttle, the public pages' limits) and nothing a request cannot rebuild. When
Redis is unreachable, failing the request because a counter cannot be read
would lock every API client and every new patient out (the token login and
the self-registration page answered 500): `FailoverRedisCache` then counts in
the process's own memory instead, so limits still hold per process, logs once
per outage that it does so, and goes back to Redis when it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# After a failure, Redis is not asked again for this long: a request does not
# wait for a connection timeout on every counter while Redis is down.
RETRY_AFTER_SECONDS = 5.0
# Redis answers within milliseconds or not at all.
DEFAULT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


class FailoverRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        params = {**params, "OPTIONS": {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}}
        super().__init__(server, params)
        self.fallback = LocMemCache(f"failover-{server}", {"TIMEOUT": params.get("TIMEOUT", 300)})
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._retry_at:
            return getattr(self.fallback, name)(*args, **kwargs)
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except UNREACHABLE as error:
            self._failed(error)
            return getattr(self.fallback, name)(*args, **kwargs)
        if self._down_since is not None:
            self._recovered()
        return result

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS
            if self._down_since is None:
                self._down_since = time.monotonic()
                logger.warning(
                    "Redis cache unreachable (%s): rate limits count per process until it answers again.", error
                )

    def _recovered(self) -> None:
        with self._lock:
            if self._down_since is not None:
                logger.warning("Redis cache reachable again after %.0f s.", time.monotonic() - self._down_since)
                self._down_since = None


def _delegate(name: str) -> Callable[..., Any]:
    def method(self: FailoverRedisCache, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"`{name}` on Redis, or on the process's memory while Redis is unreachable."
    return method


# Everything else of the cache API (get_or_set, decr, the async methods...) is
# built by Django's BaseCache on these.
for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
):
    setattr(FailoverRedisCache, _name, _delegate(_name))
