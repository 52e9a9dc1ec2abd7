"""Calendar subscriptions: each professional's secret iCalendar link (their
own, or any of the clinic's for an owner), and the feed behind it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinic.models import CalendarNames, Organization, Professional
from clinic.permissions import Perm, request_has_perm
from clinic.tenancy import organization_scope
from scheduling import ical


def _professionals(request: HttpRequest) -> list[Professional]:
    clinic = request.clinic  # type: ignore[attr-defined]
    mine = Q(user_id=request.user.pk)
    if request_has_perm(request, Perm.MANAGE_ORGANIZATION):
        mine |= Q(clinic=clinic)
    return list(Professional.objects.filter(mine, is_active=True).order_by("name", "pk"))


def feed_url(professional: Professional) -> str:
    return f"{settings.PUBLIC_URL}{reverse('scheduling:ical', args=[professional.calendar_token])}"


@login_required
@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest) -> HttpResponse:
    professionals = _professionals(request)
    can_manage = request_has_perm(request, Perm.MANAGE_ORGANIZATION)
    organization: Organization = request.organization  # type: ignore[attr-defined]
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "names" and can_manage and request.POST.get("names") in CalendarNames.values:
            Organization.objects.filter(pk=organization.pk).update(calendar_names=request.POST["names"])
            messages.success(request, _("Saved."))
            return redirect("scheduling:subscriptions")
        professional = next((p for p in professionals if str(p.pk) == request.POST.get("professional")), None)
        if professional is None:
            raise Http404
        if action == "renew":
            ical.feed_link_renew(professional=professional)
            messages.success(request, _("New link for %(name)s: the old one no longer works.") % {
                "name": professional.name})  # fmt: skip
        elif action == "revoke":
            ical.feed_link_revoke(professional=professional)
            messages.success(request, _("The link for %(name)s no longer works.") % {"name": professional.name})
        return redirect("scheduling:subscriptions")
    rows = [(p, feed_url(p) if p.calendar_token else "") for p in professionals]
    organization.refresh_from_db(fields=["calendar_names"])
    context = {"rows": rows, "can_manage": can_manage, "names": organization.calendar_names,
               "name_choices": CalendarNames.choices}  # fmt: skip
    return render(request, "scheduling/subscriptions.html", context)


@require_GET
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    professional = ical.professional_by_token(token)
    if professional is None:
        raise Http404
    with organization_scope(professional.organization_id):
        document = ical.feed(professional)
    response = HttpResponse(document, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
