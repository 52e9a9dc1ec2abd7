"""Reads of the Team settings page: the organization's people with their
roles per clinic and status, and one person's history."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from clinic.models import MemberEvent, Membership, Organization, User

STATUSES = ("current", "deactivated", "all")

# Active, or invited and not yet accepted: the people who are on the team.
CURRENT = Q(is_active=True) | Q(is_active=False, deactivated_at__isnull=True, invited_at__isnull=False)


def team_members(organization: Organization, *, status: str = "current") -> QuerySet[User]:
    """The organization's people by name, their memberships (with clinics)
    and inviter loaded: two queries, however many people."""
    memberships = Membership.objects.select_related("clinic").order_by("-clinic__is_central", "clinic__name", "pk")
    users = (
        User.objects.filter(organization=organization)
        .select_related("invited_by")
        .prefetch_related(Prefetch("memberships", queryset=memberships))
        .order_by("first_name", "last_name", "username", "pk")
    )
    if status == "current":
        return users.filter(CURRENT)
    if status == "deactivated":
        return users.exclude(CURRENT)
    return users


def team_counts(organization: Organization) -> dict[str, int]:
    counts = User.objects.filter(organization=organization).aggregate(
        current=Count("pk", filter=CURRENT), all=Count("pk")
    )
    return {"current": counts["current"], "deactivated": counts["all"] - counts["current"], "all": counts["all"]}


def team_member(organization: Organization, user_id: int) -> User | None:
    """One person of the organization (None for a missing one and for
    another organization's alike), memberships loaded."""
    return team_members(organization, status="all").filter(pk=user_id).first()


def member_history(user: User) -> list[MemberEvent]:
    """What happened to the person, newest first, with who did it."""
    return list(MemberEvent.objects.filter(user=user).select_related("actor", "clinic").order_by("-created_at", "-pk"))
