"""Team management (writes): inviting people, their roles per clinic,
deactivating and reactivating them, and the invitee accepting.

Who may do what (`TeamPowers`): an actor manages the team of the clinics
where their role holds `Perm.MANAGE_TEAM` (owners and managers by default);
the owner role is given, taken and an owner's access changed only where the
actor holds `Perm.MANAGE_ORGANIZATION` (owners). Nobody deactivates
themselves, and the organization always keeps one active owner.

People are never deleted: a person who leaves is deactivated (they cannot
log in, their API tokens are revoked, their memberships grant nothing while
they are inactive) and their name stays on every record they wrote. Every
change writes a `MemberEvent` (who, when, from → to) in the same transaction;
memberships keep their django-simple-history too.

Each use case is an entry point; those that could leave the organization
without an owner lock the people they decide on together with every active
owner, in primary-key order (`_lock_people`), and decide only then: two
owners deactivating each other at once end with one of them still active.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext as _

from clinic import sessions, tokens
from clinic.errors import NotFound, PermissionDenied, ValidationFailed
from clinic.jobs import enqueue
from clinic.models import ApiToken, Clinic, MemberEvent, MemberEventKind, Membership, MemberStatus, Role, User
from clinic.permissions import Perm, membership_has_perm
from clinic.transactions import entry_point, require_transaction

NAME_MAX = 150


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """The signed, expiring token of an invitation link (Django's password
    reset token with its own salt and lifetime). It covers the password (an
    accepted invitation has one, so its link is spent), the active flag and
    `invited_at` (sending again retires the older links)."""

    key_salt = "clinic.team.InvitationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        # To the microsecond (both our databases keep them): an invitation
        # sent again within the same second still retires the earlier link.
        invited = "" if user.invited_at is None else user.invited_at.isoformat()
        deactivated = "" if user.deactivated_at is None else user.deactivated_at.isoformat()
        return f"{user.pk}{user.password}{user.is_active}{invited}{deactivated}{timestamp}{user.email}"

    def check_token(self, user: User | None, token: str | None) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return (self._num_seconds(self._now()) - timestamp) <= settings.INVITATION_TIMEOUT


invitation_tokens = InvitationTokenGenerator()


@dataclass(frozen=True)
class TeamPowers:
    """What an actor may do to the team: the clinics whose team they manage
    and those where they may give or take the owner role."""

    manages: frozenset[int]
    owns: frozenset[int]

    @classmethod
    def of(cls, memberships: Iterable[Membership]) -> TeamPowers:
        """From the actor's memberships (their `organization` loaded, as the
        tenant middleware loads them)."""
        listed = list(memberships)
        return cls(
            manages=frozenset(m.clinic_id for m in listed if membership_has_perm(m, Perm.MANAGE_TEAM)),
            owns=frozenset(m.clinic_id for m in listed if membership_has_perm(m, Perm.MANAGE_ORGANIZATION)),
        )

    def grantable_roles(self, clinic_id: int) -> list[str]:
        roles = [role for role in Role.values if role != Role.OWNER or clinic_id in self.owns]
        return roles if clinic_id in self.manages else []

    def may_act_on(self, memberships: Sequence[Membership]) -> bool:
        """Deactivate, reactivate, invite again: the actor manages every
        clinic the person works in, and owns those where they are owner."""
        return bool(memberships) and all(
            m.clinic_id in self.manages and (m.role != Role.OWNER or m.clinic_id in self.owns) for m in memberships
        )


def powers_of(user: User) -> TeamPowers:
    """The actor's powers as the database has them now (inside an entry
    point, after the actor's row is locked)."""
    return TeamPowers.of(Membership.objects.filter(user=user, clinic__is_active=True).select_related("organization"))


def _lock_people(organization_id: int, *user_ids: int) -> dict[int, User]:
    """Lock `user_ids` and every active owner of the organization, in
    primary-key order (the one order of this module: no deadlock between two
    team changes). Whatever decides on owners reads after this."""
    require_transaction()
    owners = Membership.objects.filter(role=Role.OWNER, user__is_active=True).values("user_id")
    rows = (
        User.objects.select_for_update()
        .filter(organization_id=organization_id)
        .filter(Q(pk__in=user_ids) | Q(pk__in=owners))
        .order_by("pk")
    )
    return {user.pk: user for user in rows}


def _active_owner_ids() -> set[int]:
    return set(
        Membership.objects.filter(role=Role.OWNER, user__is_active=True, clinic__is_active=True).values_list(
            "user_id", flat=True
        )
    )


def _locked_actor_and_member(actor: User, user: User) -> tuple[User, User, TeamPowers]:
    if actor.organization_id is None or user.organization_id != actor.organization_id:
        raise ValidationFailed(fields={"user": [_("This person is not on your team.")]})
    people = _lock_people(actor.organization_id, actor.pk, user.pk)
    locked_actor, member = people.get(actor.pk), people.get(user.pk)
    if locked_actor is None or member is None:
        raise ValidationFailed(fields={"user": [_("This person is not on your team.")]})
    if not locked_actor.is_active:
        raise PermissionDenied(_("Your account was deactivated."), code="actor_inactive")
    return locked_actor, member, powers_of(locked_actor)


def _require_access_powers(member: User, powers: TeamPowers) -> None:
    """Ending someone's access (deactivating them, logging them out) needs
    power over every clinic they work in, and an owner's needs an owner."""
    memberships = _memberships_of(member)
    if memberships and not powers.may_act_on(memberships):
        if any(m.role == Role.OWNER for m in memberships) and not powers.owns:
            raise PermissionDenied(_("Only an owner can change an owner's access."), code="owner_protected")
        raise PermissionDenied(_("Only someone who manages all of this person's clinics can do this."))


def _event(
    *, user: User, actor: User | None, kind: MemberEventKind, clinic: Clinic | None = None,
    role_before: str = "", role_after: str = "", detail: str = "",
) -> MemberEvent:  # fmt: skip
    if user.organization_id is None:
        raise ValueError("a team event needs the person's organization")
    return MemberEvent.objects.create(
        organization_id=user.organization_id, user=user, actor=actor, kind=kind, clinic=clinic,
        role_before=role_before or "", role_after=role_after or "", detail=detail,
    )  # fmt: skip


def _queue_invitation(user: User) -> None:
    from clinic.tasks import send_invitation

    enqueue(send_invitation, user.pk, user.organization_id, translation.get_language() or settings.LANGUAGE_CODE)


def _memberships_of(user: User) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user)
        .select_related("clinic")
        .order_by("-clinic__is_central", "clinic__name", "pk")
    )


# Inviting


@entry_point
def member_invite(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str = "",
    role: str,
    clinic_ids: Sequence[int],
) -> User:
    """Create an inactive user with the `role` in each clinic of `clinic_ids`
    and e-mail them a link to set their password. Their username is their
    e-mail address. Every problem is reported at once."""
    if actor.organization_id is None:
        raise PermissionDenied()
    locked_actor = _lock_people(actor.organization_id, actor.pk).get(actor.pk)
    if locked_actor is None or not locked_actor.is_active:
        raise PermissionDenied(_("Your account was deactivated."), code="actor_inactive")
    powers = powers_of(locked_actor)
    if not powers.manages:
        raise PermissionDenied()
    errors: dict[str, list[str]] = {}

    email = (email or "").strip().lower()
    if not email:
        errors["email"] = [_("This field is required.")]
    else:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
        else:
            if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
                errors["email"] = [_("Someone already has an account with this e-mail address.")]
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        errors["first_name"] = [_("This field is required.")]
    elif len(first_name) > NAME_MAX:
        errors["first_name"] = [_("At most %(count)s characters.") % {"count": NAME_MAX}]
    if len(last_name) > NAME_MAX:
        errors["last_name"] = [_("At most %(count)s characters.") % {"count": NAME_MAX}]

    clinics = list(Clinic.objects.filter(pk__in=list(clinic_ids), is_active=True).order_by("-is_central", "name"))
    if not clinic_ids:
        errors["clinics"] = [_("Choose at least one clinic.")]
    elif len(clinics) != len(set(clinic_ids)):
        errors["clinics"] = [_("Choose among your organization's active clinics.")]
    else:
        refused = [clinic.name for clinic in clinics if clinic.pk not in powers.manages]
        if refused:
            errors["clinics"] = [_("You do not manage the team of %(clinics)s.") % {"clinics": ", ".join(refused)}]
    if role not in Role.values:
        errors["role"] = [_("Choose a role.")]
    elif role == Role.OWNER and any(clinic.pk not in powers.owns for clinic in clinics):
        errors["role"] = [_("Only an owner can make someone an owner.")]
    if errors:
        raise ValidationFailed(fields=errors)

    user = User(
        username=email, email=email, first_name=first_name, last_name=last_name,
        organization_id=actor.organization_id, is_active=False, invited_at=timezone.now(), invited_by=locked_actor,
    )  # fmt: skip
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        # Invited at the same moment by someone else: the unique index decided.
        raise ValidationFailed(
            fields={"email": [_("Someone already has an account with this e-mail address.")]}
        ) from error
    for clinic in clinics:
        membership = Membership(organization_id=clinic.organization_id, user=user, clinic=clinic, role=role)
        membership._history_user = locked_actor  # type: ignore[attr-defined]
        membership.save()
        _event(user=user, actor=locked_actor, kind=MemberEventKind.INVITED, clinic=clinic, role_after=role)
    _queue_invitation(user)
    return user


@entry_point
def member_resend_invitation(*, actor: User, user: User) -> User:
    """E-mail a new link to a person who has not accepted yet; older links stop working."""
    locked_actor, member, powers = _locked_actor_and_member(actor, user)
    if member.member_status != MemberStatus.INVITED:
        raise ValidationFailed(_("This person has already accepted the invitation."), code="not_invited")
    if not powers.may_act_on(_memberships_of(member)):
        raise PermissionDenied(_("Only someone who manages all of this person's clinics can do this."))
    member.invited_at = timezone.now()
    member.save(update_fields=["invited_at"])
    _event(user=member, actor=locked_actor, kind=MemberEventKind.INVITATION_SENT)
    _queue_invitation(member)
    return member


def invitation_send(user: User) -> None:
    """The task's body: the invitation e-mail with a fresh link (read now, so
    it is the link of the latest invitation). Sends nothing to a person who
    accepted or was deactivated in the meantime."""
    if user.member_status != MemberStatus.INVITED:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("invitation-accept", kwargs={"uidb64": uid, "token": invitation_tokens.make_token(user)})
    clinics = [m.clinic.name for m in _memberships_of(user)]
    inviter = user.invited_by
    context = {
        "user": user,
        "inviter": inviter.get_full_name() or inviter.username if inviter else "",
        "organization": user.organization.name if user.organization else "",
        "clinics": clinics,
        "link": f"{settings.PUBLIC_URL}{path}",
        "days": max(1, settings.INVITATION_TIMEOUT // 86400),
    }
    subject = " ".join(render_to_string("clinic/emails/invitation_subject.txt", context).split())
    body = render_to_string("clinic/emails/invitation_email.txt", context)
    send_mail(subject, body, None, [user.email])


@entry_point
def invitation_accept(*, user: User, token: str, password: str) -> User:
    """The invitee sets their password: the account becomes active. The
    link works once (the token covers the password) and until it expires."""
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if (
        locked is None
        or locked.member_status != MemberStatus.INVITED
        or not invitation_tokens.check_token(locked, token)
    ):
        raise ValidationFailed(
            _("This invitation link is no longer valid. Ask the person who invited you for a new one."),
            code="invitation_invalid",
        )
    try:
        validate_password(password, locked)
    except DjangoValidationError as error:
        raise ValidationFailed(fields={"password": error.messages}) from error
    locked.set_password(password)
    locked.is_active = True
    locked.save(update_fields=["password", "is_active"])
    _event(user=locked, actor=locked, kind=MemberEventKind.JOINED)
    return locked


# Roles


@entry_point
def member_set_roles(*, actor: User, user: User, roles: Mapping[int, str | None]) -> list[Membership]:
    """Set the person's role in each clinic of `roles` (clinic id -> role;
    None or "": no access there); clinics not named keep theirs. Returns the
    person's memberships afterwards."""
    locked_actor, member, powers = _locked_actor_and_member(actor, user)
    current = {m.clinic_id: m for m in _memberships_of(member)}
    wanted = {int(clinic_id): (role or None) for clinic_id, role in roles.items()}
    clinics = {clinic.pk: clinic for clinic in Clinic.objects.filter(pk__in=list(wanted))}
    errors: dict[str, list[str]] = {}
    target_is_owner = any(m.role == Role.OWNER for m in current.values())
    if target_is_owner and not powers.owns:
        raise PermissionDenied(_("Only an owner can change an owner's access."), code="owner_protected")

    changes: list[tuple[Clinic, str | None, str | None]] = []
    for clinic_id, role in wanted.items():
        key = f"roles.{clinic_id}"
        clinic = clinics.get(clinic_id)
        if clinic is None:
            errors.setdefault("roles", []).append(_("Choose among your organization's clinics."))
            continue
        if role is not None and role not in Role.values:
            errors[key] = [_("Choose a role.")]
            continue
        before = current[clinic_id].role if clinic_id in current else None
        if before == role:
            continue
        if clinic_id not in powers.manages:
            errors[key] = [_("You do not manage the team of %(clinics)s.") % {"clinics": clinic.name}]
        elif Role.OWNER in (before, role) and clinic_id not in powers.owns:
            errors[key] = [_("Only an owner can give or take the owner role.")]
        else:
            changes.append((clinic, before, role))

    after = {cid: m.role for cid, m in current.items()}
    for clinic, _before, role in changes:
        if role is None:
            after.pop(clinic.pk, None)
        else:
            after[clinic.pk] = role
    if changes and not after and member.member_status != MemberStatus.DEACTIVATED:
        errors.setdefault("roles", []).append(
            _("Keep at least one clinic. To end this person's access, deactivate them.")
        )
    owners = _active_owner_ids() if changes and member.is_active else set()
    if member.pk in owners:
        active_clinics = set(Clinic.objects.filter(is_active=True).values_list("pk", flat=True))
        if not any(role == Role.OWNER and cid in active_clinics for cid, role in after.items()):
            owners.discard(member.pk)
        if not owners:
            last = _("The organization needs at least one active owner. Make someone else owner first.")
            raise ValidationFailed(last, code="last_owner", fields={"roles": [last]})
    if errors:
        raise ValidationFailed(fields=errors)

    for clinic, before, role in changes:
        membership = current.get(clinic.pk)
        if role is None:
            if membership is not None:
                membership._history_user = locked_actor  # type: ignore[attr-defined]
                membership.delete()
        elif membership is None:
            membership = Membership(organization_id=clinic.organization_id, user=member, clinic=clinic, role=role)
            membership._history_user = locked_actor  # type: ignore[attr-defined]
            membership.save()
        else:
            membership.role = role
            membership._history_user = locked_actor  # type: ignore[attr-defined]
            membership.save(update_fields=["role"])
        _event(
            user=member, actor=locked_actor, kind=MemberEventKind.ROLE_CHANGED, clinic=clinic,
            role_before=before or "", role_after=role or "",
        )  # fmt: skip
    return _memberships_of(member)


# Deactivating


@entry_point
def member_deactivate(*, actor: User, user: User) -> User:
    """End the person's access: they cannot log in, their browser sessions
    end and their API tokens are revoked, their memberships stay (for their
    history and a reactivation). A pending invitation is withdrawn the same
    way."""
    locked_actor, member, powers = _locked_actor_and_member(actor, user)
    if member.pk == locked_actor.pk:
        raise ValidationFailed(_("You cannot deactivate yourself."), code="self_deactivation")
    if member.member_status == MemberStatus.DEACTIVATED:
        return member
    _require_access_powers(member, powers)
    if member.is_active and _active_owner_ids() == {member.pk}:
        raise ValidationFailed(
            _("The organization needs at least one active owner. Make someone else owner first."), code="last_owner"
        )
    member.is_active = False
    member.deactivated_at = timezone.now()
    member.save(update_fields=["is_active", "deactivated_at"])
    # Their browsers too: a session left open would log them in again on
    # a reactivation (Django refuses an inactive user's session, keeps it).
    _log_out_everywhere(member)
    _event(user=member, actor=locked_actor, kind=MemberEventKind.DEACTIVATED)
    return member


def _log_out_everywhere(member: User) -> int:
    """End every browser session of `member` and revoke their API tokens:
    how many there were."""
    return sessions.sessions_end(user=member) + tokens.tokens_revoke_all(user=member)


def _locked_for_access(actor: User, user: User) -> tuple[User, User]:
    """The actor and the member, locked, when the actor may end some of the
    member's access: who may deactivate them, and never themselves (their
    own is on "Your access")."""
    locked_actor, member, powers = _locked_actor_and_member(actor, user)
    if member.pk == locked_actor.pk:
        raise ValidationFailed(
            _("To log yourself out elsewhere, open “Your access” in your account menu."), code="self_log_out"
        )
    _require_access_powers(member, powers)
    return locked_actor, member


@entry_point
def member_log_out_everywhere(*, actor: User, user: User) -> User:
    """Log the person out of every browser and revoke their API tokens (a
    lost phone, a computer left logged in): they keep their access and log
    in again. Who may deactivate them may do this."""
    locked_actor, member = _locked_for_access(actor, user)
    if not _log_out_everywhere(member):
        # Nothing was open (they logged out meanwhile, or the page was old):
        # said, and not recorded as if something had ended.
        raise ValidationFailed(
            _("%(name)s is logged in on no browser and has no API token: there was nothing to end.") % {"name": member},
            code="nothing_to_end",
        )
    _event(user=member, actor=locked_actor, kind=MemberEventKind.LOGGED_OUT)
    return member


@entry_point
def member_token_revoke(*, actor: User, user: User, token_id: int) -> ApiToken:
    """Revoke one API token of the person (a program that should no longer
    connect as them, a key that leaked): their browsers and other tokens
    stay. Who may log them out may do this."""
    locked_actor, member = _locked_for_access(actor, user)
    try:
        token = tokens.token_revoke(user=member, token_id=token_id)
    except NotFound:
        raise ValidationFailed(
            _("This token was revoked already (by its owner, or meanwhile): the list is up to date."),
            code="token_gone",
        ) from None
    _event(user=member, actor=locked_actor, kind=MemberEventKind.TOKEN_REVOKED, detail=token.name)
    return token


@entry_point
def member_reactivate(*, actor: User, user: User) -> User:
    """Give a deactivated person their access back, with the roles they had.
    One who never accepted their invitation gets a new one."""
    locked_actor, member, powers = _locked_actor_and_member(actor, user)
    if member.member_status != MemberStatus.DEACTIVATED:
        return member
    memberships = _memberships_of(member)
    if not memberships:
        raise ValidationFailed(_("This person has no role in any clinic. Give them one first."), code="no_membership")
    if not powers.may_act_on(memberships):
        if any(m.role == Role.OWNER for m in memberships) and not powers.owns:
            raise PermissionDenied(_("Only an owner can change an owner's access."), code="owner_protected")
        raise PermissionDenied(_("Only someone who manages all of this person's clinics can do this."))
    member.deactivated_at = None
    if member.has_usable_password():
        member.is_active = True
        member.save(update_fields=["is_active", "deactivated_at"])
        _event(user=member, actor=locked_actor, kind=MemberEventKind.REACTIVATED)
    else:
        member.invited_at = timezone.now()
        member.save(update_fields=["deactivated_at", "invited_at"])
        _event(user=member, actor=locked_actor, kind=MemberEventKind.REACTIVATED)
        _queue_invitation(member)
    return member


def invitation_expires_at(user: User) -> dt.datetime | None:
    """When the latest invitation's link stops working."""
    if user.invited_at is None:
        return None
    return user.invited_at + dt.timedelta(seconds=settings.INVITATION_TIMEOUT)
