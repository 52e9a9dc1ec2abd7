"""Error pages: JSON in the API's format under /api/, HTML elsewhere."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from clinic.request_id import RequestIdMiddleware, current


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": _("Not found."), "fields": {}}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """An unexpected error: the API's JSON shape under /api/ (never an HTML page
    to a program), a plain page elsewhere; both carry the request id that the
    log line of the error also carries."""
    request_id = request_id_of(request)
    if request.path.startswith("/api/"):
        body = {
            "code": "server_error",
            "detail": _("Something went wrong on our side. The error was recorded; quote %(id)s to support.")
            % {"id": request_id},
            "fields": {},
            "request_id": request_id,
        }
        return JsonResponse(body, status=500)
    # No context processors: the database may be what failed.
    context = {"reference": reference_of(request_id), "support_email": settings.SUPPORT_EMAIL}
    return HttpResponse(loader.get_template("500.html").render(context), status=500)


def reference_of(request_id: str) -> str:
    """What a person reads out to support: the first 8 characters of an id
    this app made (32 hex digits; unique enough within a log's lifetime, and
    a prefix `grep` finds), a load balancer's own id whole."""
    return request_id[:8] if RequestIdMiddleware.made(request_id) else request_id


def request_id_of(request: HttpRequest) -> str:
    return getattr(request, "request_id", None) or current()
