"""The Team settings pages (owners and managers: `Perm.MANAGE_TEAM`), the
invitee's page that activates their account, and the password reset.

Every write calls one entry point of `clinic.team`. A person of another
organization answers 404 like a missing one (`get_member_for_user`).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from clinic import sessions, team, tokens
from clinic.errors import ApplicationError, NotFound, add_to_form
from clinic.jobs import enqueue
from clinic.models import Clinic, MemberStatus, User
from clinic.tasks import send_password_reset
from clinic.team import TeamPowers, invitation_tokens
from clinic.team_forms import InviteForm, MemberRolesForm
from clinic.team_selectors import STATUSES, member_history, team_counts, team_member, team_members
from clinic.tenancy import organization_scope

logger = logging.getLogger(__name__)

INVITATION_SESSION_KEY = "_invitation_token"
# What the invitation's URL carries instead of the token once it is in the
# session (Django's password reset does the same): the token does not stay
# in the address bar, the history or a Referer header.
ACCEPT_SEGMENT = "set-password"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _powers(request: HttpRequest) -> TeamPowers:
    return TeamPowers.of(getattr(request, "memberships", []))


def _require_team_manager(request: HttpRequest) -> TeamPowers:
    """The reader manages the team of at least one clinic, else 403."""
    powers = _powers(request)
    if not powers.manages:
        raise PermissionDenied
    return powers


def get_member_for_user(request: HttpRequest, user_id: int) -> User:
    """A person of the reader's organization; 404 alike for missing and for another tenant's."""
    organization = getattr(request, "organization", None)
    member = team_member(organization, user_id) if organization is not None else None
    if member is None:
        raise Http404
    return member


def _status(request: HttpRequest) -> str:
    status = request.GET.get("status", "current")
    return status if status in STATUSES else "current"


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    _require_team_manager(request)
    organization = request.organization  # type: ignore[attr-defined]
    status = _status(request)
    rows = []
    for member in team_members(organization, status=status):
        memberships = list(member.memberships.all())
        rows.append(
            {
                "user": member,
                "memberships": memberships,
                "status": member.member_status,
                "is_self": member.pk == request.user.pk,
                "expires_at": team.invitation_expires_at(member),
            }
        )
    context = {"rows": rows, "status": status, "counts": team_counts(organization), "now": timezone.now()}
    return render(request, "clinic/team.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def member_invite(request: HttpRequest) -> HttpResponse:
    powers = _require_team_manager(request)
    clinics = list(Clinic.objects.filter(is_active=True).order_by("-is_central", "name"))
    current = getattr(request, "clinic", None)
    initial = {"clinics": [current.pk]} if current is not None and current.pk in powers.manages else {}
    form = InviteForm(request.POST or None, powers=powers, clinics=clinics, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invited = team.member_invite(
                actor=request.user,  # type: ignore[arg-type]
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                clinic_ids=data["clinics"],
            )
        except ApplicationError as error:
            add_to_form(form, error)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. They join once they choose their password.")
                % {"email": invited.email},
            )
            return redirect("settings-team")
    return render(request, "clinic/team_invite.html", {"form": form})


def _on_role_fields(error: ApplicationError) -> ApplicationError:
    """The service names a clinic's role `roles.<id>`; the form's field is `role_<id>`."""
    fields = {
        (MemberRolesForm.field_name(int(name.split(".", 1)[1])) if name.startswith("roles.") else name): messages
        for name, messages in error.fields.items()
    }
    return ApplicationError(error.detail, code=error.code, fields=fields)


@login_required
@require_http_methods(["GET", "POST"])
def member_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    powers = _require_team_manager(request)
    member = get_member_for_user(request, user_id)
    memberships = list(member.memberships.all())
    clinics = list(Clinic.objects.order_by("-is_central", "name"))
    form = MemberRolesForm(request.POST or None, powers=powers, clinics=clinics, memberships=memberships)
    if request.method == "POST" and form.is_valid():
        changes = form.changed_roles()
        if not changes:
            messages.info(request, _("Nothing changed."))
            return redirect("settings-team-member", user_id=member.pk)
        try:
            team.member_set_roles(actor=request.user, user=member, roles=changes)  # type: ignore[arg-type]
        except ApplicationError as error:
            add_to_form(form, _on_role_fields(error))
        else:
            messages.success(request, _("Roles of %(name)s saved.") % {"name": member})
            return redirect("settings-team-member", user_id=member.pk)
    context = {
        "member": member,
        "memberships": memberships,
        "status": member.member_status,
        "is_self": member.pk == request.user.pk,
        "may_act": powers.may_act_on(memberships) and member.pk != request.user.pk,
        "expires_at": team.invitation_expires_at(member),
        "now": timezone.now(),
        "open_sessions": sessions.sessions_open(member),
        "api_tokens": list(member.api_tokens.order_by("-last_used_at", "-pk")),
        "form": form,
        "history": member_history(member),
    }
    return render(request, "clinic/team_member.html", context)


def _member_action(request: HttpRequest, user_id: int, action: Any, done: str) -> HttpResponse:
    _require_team_manager(request)
    member = get_member_for_user(request, user_id)
    try:
        action(actor=request.user, user=member)
    except ApplicationError as error:
        messages.error(request, error.summary)
    else:
        messages.success(request, done % {"name": member, "email": member.email})
    return redirect("settings-team-member", user_id=member.pk)


@login_required
@require_POST
def member_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _member_action(
        request, user_id, team.member_deactivate, _("%(name)s was deactivated and can no longer log in.")
    )


@login_required
@require_POST
def member_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _member_action(request, user_id, team.member_reactivate, _("%(name)s was reactivated."))


@login_required
@require_POST
def member_resend_invitation(request: HttpRequest, user_id: int) -> HttpResponse:
    return _member_action(request, user_id, team.member_resend_invitation, _("A new invitation was sent to %(email)s."))


@login_required
@require_POST
def member_log_out(request: HttpRequest, user_id: int) -> HttpResponse:
    return _member_action(
        request, user_id, team.member_log_out_everywhere,
        _("%(name)s was logged out of every browser and their API tokens were revoked."),
    )  # fmt: skip


@login_required
@require_POST
def member_token_revoke(request: HttpRequest, user_id: int, token_id: int) -> HttpResponse:
    return _member_action(
        request, user_id, functools.partial(team.member_token_revoke, token_id=token_id),
        _("An API token of %(name)s was revoked: programs using it can no longer connect."),
    )  # fmt: skip


# Your own access: the browsers you are logged in on, your API tokens


@login_required
@require_http_methods(["GET"])
def account_access(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    context = {
        "open_sessions": sessions.sessions_open(user),
        "api_tokens": list(user.api_tokens.order_by("-last_used_at", "-pk")),
    }
    return render(request, "clinic/account_access.html", context)


@login_required
@require_POST
def account_log_out_elsewhere(request: HttpRequest) -> HttpResponse:
    ended = sessions.sessions_end(user=request.user, keep=request.session.session_key)  # type: ignore[arg-type]
    messages.success(request, ngettext(
        "Logged out of %(count)s other browser.", "Logged out of %(count)s other browsers.", ended
    ) % {"count": ended})  # fmt: skip
    return redirect("account-access")


@login_required
@require_POST
def account_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        tokens.token_revoke(user=request.user, token_id=token_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    messages.success(request, _("The token was revoked: programs using it can no longer connect."))
    return redirect("account-access")


# The invitee's side (no login)


def _invited_user(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    user = User.objects.select_related("organization", "invited_by").filter(pk=pk).first()
    if user is None or user.organization_id is None or user.member_status != MemberStatus.INVITED:
        return None
    return user


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/invitation_invalid.html")


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link of the invitation e-mail: the invitee chooses a password
    (Django's validators), their account becomes active and they are
    logged in. A used, withdrawn, replaced or expired link says so, and
    nothing about the account."""
    user = _invited_user(uidb64)
    if token != ACCEPT_SEGMENT:
        if user is None or not invitation_tokens.check_token(user, token):
            return _invalid(request)
        request.session[INVITATION_SESSION_KEY] = token
        return redirect("invitation-accept", uidb64=uidb64, token=ACCEPT_SEGMENT)
    token = request.session.get(INVITATION_SESSION_KEY, "")
    if user is None or not invitation_tokens.check_token(user, token):
        return _invalid(request)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with organization_scope(user.organization_id):  # type: ignore[arg-type]
                accepted = team.invitation_accept(user=user, token=token, password=form.cleaned_data["new_password1"])
        except ApplicationError as error:
            if error.code == "invitation_invalid":
                return _invalid(request)
            fields = {("new_password1" if k == "password" else k): v for k, v in error.fields.items()}
            add_to_form(form, ApplicationError(error.detail, code=error.code, fields=fields))
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            auth_login(request, accepted, backend=MODEL_BACKEND)
            messages.success(request, _("Welcome, %(name)s! Your account is ready.") % {"name": accepted.first_name})
            return redirect("dashboard")
    return render(request, "registration/invitation_accept.html", {"form": form, "invitee": user})


# Password reset: Django's views with our templates


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, its e-mail written and sent by a task: with a worker,
    a known address takes no longer to answer than an unknown one."""

    def send_mail(
        self, subject_template_name: str, email_template_name: str, context: dict[str, Any], from_email: str | None,
        to_email: str, html_email_template_name: str | None = None,
    ) -> None:  # fmt: skip
        language = translation.get_language() or settings.LANGUAGE_CODE
        # With the broker down the task waits in the outbox; the page answers
        # as it always does (known and unknown addresses alike).
        enqueue(send_password_reset, context["user"].pk, context["domain"], context["protocol"], language)


@method_decorator(ratelimit(key="ip", rate="10/h", method="POST", block=False), name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """ "Forgot your password?": the same answer whether the address is known
    or not (Django's form mails only active users with a password); too many
    requests from one address are answered alike and send nothing."""

    form_class = PasswordResetForm

    def form_valid(self, form: Any) -> HttpResponse:
        if getattr(self.request, "limited", False):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
