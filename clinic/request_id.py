"""A request id on every request, its response and its log lines.

The id comes from the load balancer's ``X-Request-ID`` header when it sends a
sane one (so one id follows a request through every hop), or is made here. It
goes back in the response's ``X-Request-ID`` header, in every log line written
while the request runs (``[req <id>]``, through `RequestIdFilter`), and in the
body of a 500 (`clinic.error_pages.server_error`): a person quoting it from
an error points at the log lines of their request.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_MADE = re.compile(r"[0-9a-f]{32}")  # uuid4().hex
_current: ContextVar[str] = ContextVar("request_id", default="-")


def current() -> str:
    """The id of the request this code runs for (``-`` outside one)."""
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @staticmethod
    def made(request_id: str) -> bool:
        """Whether the id is one this middleware made (not a load balancer's)."""
        return _MADE.fullmatch(request_id) is not None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _SANE.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


def install_log_record_factory() -> None:
    """Stamp every log record with the current request id when it is made,
    so every handler sees it (the console's, a test's, an error tracker's)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_id", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _current.get()
        return record

    factory.stamps_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` for the formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True
