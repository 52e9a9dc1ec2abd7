"""The messages page (what was sent and what failed) and the providers'
delivery callbacks."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ApplicationError
from clinic.permissions import Perm, request_has_perm, require_perm
from patients.messaging import templates_service, tracking
from patients.messaging.models import REMINDER_PLACEHOLDERS, Channel, Message, MessageStatus, MessageTemplate
from patients.messaging.providers import twilio_signature, whatsapp_signature

PAGE_SIZE = 50


@login_required
@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.MANAGE_PATIENTS)
    rows = Message.objects.select_related("patient").order_by("-created_at", "-pk")
    status = request.GET.get("status", "")
    if status == "failed":
        rows = rows.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNKNOWN])
    elif status in MessageStatus.values:
        rows = rows.filter(status=status)
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        rows = rows.filter(channel=channel)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "status": status, "channel": channel, "channels": Channel.choices,
               "statuses": MessageStatus.choices, "query": query.urlencode(),
               "can_word": request_has_perm(request, Perm.MANAGE_ORGANIZATION)}  # fmt: skip
    return render(request, "messaging/messages.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def reminder_templates(request: HttpRequest) -> HttpResponse:
    """The organization's wording of reminders, one text per language."""
    require_perm(request, Perm.MANAGE_ORGANIZATION)
    organization = request.organization  # type: ignore[attr-defined]
    errors: dict[str, list[str]] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        for code, _name in settings.LANGUAGES:
            posted[code] = request.POST.get(f"text_{code}", "")
        try:
            with transaction.atomic():  # all languages or none: every error at once
                for code, text in posted.items():
                    try:
                        templates_service.reminder_template_save(organization=organization, language=code, text=text)
                    except ApplicationError as error:
                        errors[code] = error.fields.get("text", [error.detail])
                if errors:
                    raise _Rollback
        except _Rollback:
            pass
        else:
            messages.success(request, _("Saved."))
            return redirect("messaging:templates")
    saved = dict(MessageTemplate.objects.filter(kind="reminder").values_list("language", "text"))
    rows = [
        (code, name, posted.get(code, saved.get(code, "")), errors.get(code, [])) for code, name in settings.LANGUAGES
    ]
    context = {"rows": rows, "placeholders": [f"{{{n}}}" for n in REMINDER_PLACEHOLDERS], "has_errors": bool(errors)}
    return render(request, "messaging/templates.html", context, status=400 if errors else 200)


class _Rollback(Exception):
    pass


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison of two texts, any characters (a forged header
    may hold non-ASCII ones)."""
    return hmac.compare_digest(expected.encode(), given.encode())


@csrf_exempt
@require_POST
def twilio_callback(request: HttpRequest) -> HttpResponse:
    """Twilio's StatusCallback, signed with the account's auth token."""
    params = {key: request.POST[key] for key in request.POST}
    # Signed over the address Twilio was given (PUBLIC_URL): behind a proxy the
    # request's own host and scheme may differ.
    url = f"{settings.PUBLIC_URL}{request.get_full_path()}"
    expected = twilio_signature(url, dict(request.POST.lists()), settings.TWILIO_AUTH_TOKEN)
    if not settings.TWILIO_AUTH_TOKEN or not _same(expected, request.headers.get("X-Twilio-Signature", "")):
        return HttpResponseForbidden()
    status = params.get("MessageStatus", "")
    answer = f"twilio: {status}" + (f" (error {params['ErrorCode']})" if params.get("ErrorCode") else "")
    tracking.delivery_update(params.get("MessageSid", ""), tracking.TWILIO.get(status), answer)
    return HttpResponse(status=204)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_callback(request: HttpRequest) -> HttpResponse:
    """WhatsApp Cloud API's webhook: the subscription check (GET), then
    statuses (POST, signed with the app secret)."""
    if request.method == "GET":
        token = request.GET.get("hub.verify_token", "")
        if (
            request.GET.get("hub.mode") == "subscribe"
            and settings.WHATSAPP_VERIFY_TOKEN
            and _same(token, settings.WHATSAPP_VERIFY_TOKEN)
        ):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponseForbidden()
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not settings.WHATSAPP_APP_SECRET or not _same(whatsapp_signature(request.body, settings.WHATSAPP_APP_SECRET),
                                                     signature):  # fmt: skip
        return HttpResponseForbidden()
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponse(status=400)
    for entry in payload.get("entry", []) if isinstance(payload, dict) else []:
        for change in entry.get("changes", []):
            for status in change.get("value", {}).get("statuses", []):
                errors = "; ".join(str(e.get("title", e.get("code", ""))) for e in status.get("errors", []))
                answer = f"whatsapp: {status.get('status')}" + (f" ({errors})" if errors else "")
                tracking.delivery_update(str(status.get("id", "")), tracking.WHATSAPP.get(status.get("status")), answer)
    return HttpResponse(status=200)
