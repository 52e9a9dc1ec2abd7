"""Background work of the clinic app: the team invitation and password reset
e-mails, the outbox relay and the daily clearing of expired sessions."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic import jobs, team
from clinic.models import User
from clinic.sessions import SessionStore
from clinic.tenancy import organization_scope


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(user_id: int, organization_id: int, language: str) -> None:
    """E-mail an invitation (queued by `clinic.team` after its commit). A
    person who accepted or was deactivated since gets nothing."""
    with organization_scope(organization_id), translation.override(language):
        user = (
            User.objects.select_related("organization", "invited_by")
            .filter(pk=user_id, organization_id=organization_id)
            .first()
        )
        if user is not None:
            team.invitation_send(user)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset(user_id: int, domain: str, protocol: str, language: str) -> None:
    """The password reset e-mail of Django's form, its link made here: the
    token never waits in the broker's queue."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password() or not user.email:
        return
    with translation.override(language):
        context = {
            "email": user.email, "domain": domain, "site_name": domain, "protocol": protocol, "user": user,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user),
        }  # fmt: skip
        subject = " ".join(render_to_string("registration/password_reset_subject.txt", context).split())
        body = render_to_string("registration/password_reset_email.html", context)
    send_mail(subject, body, None, [user.email])


@shared_task
def relay_outbox() -> int:
    """Send what the broker refused while it was down (`clinic.jobs`)."""
    return jobs.relay_outbox()


@shared_task
def clear_expired_sessions() -> None:
    """Delete the browser sessions that have expired (Django's
    `clearsessions`, daily): they log no one in, and "log out everywhere"
    leaves them to this."""
    SessionStore.clear_expired()
