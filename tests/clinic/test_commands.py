from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from clinic.demo import DEMO_ORGANIZATION, DEMO_PASSWORD
from clinic.models import Clinic, Membership, Organization, Role, User


@pytest.mark.django_db
def test_create_organization_creates_organization_clinic_and_owner() -> None:
    out = StringIO()
    call_command(
        "create_organization", "--name", "Fisio Vida", "--owner", "ana", "--password", "S3nha-forte-2026", stdout=out
    )
    organization = Organization.objects.get(name="Fisio Vida")
    owner = User.objects.get(username="ana")
    assert owner.organization == organization
    assert owner.check_password("S3nha-forte-2026")
    with scopes_disabled():
        clinic = Clinic.objects.get(organization=organization)
        membership = Membership.objects.get(user=owner)
    assert (clinic.name, clinic.is_central, clinic.currency, clinic.time_zone) == (
        "Fisio Vida",
        True,
        "BRL",
        "America/Sao_Paulo",
    )
    assert (membership.clinic, membership.role) == (clinic, Role.OWNER)
    assert "Created organization “Fisio Vida”" in out.getvalue()
    # The history records the creation.
    with scopes_disabled():
        assert clinic.history.count() == 1


@pytest.mark.django_db
def test_create_organization_refuses_an_existing_username_and_writes_nothing(alice) -> None:
    organizations = Organization.objects.count()
    with pytest.raises(CommandError, match=r"owner: A user with that username already exists\."):
        call_command("create_organization", "--name", "Other", "--owner", "alice", "--password", "S3nha-forte-2026")
    assert Organization.objects.count() == organizations


@pytest.mark.django_db
def test_create_organization_refuses_a_weak_password_and_writes_nothing() -> None:
    with pytest.raises(CommandError, match="password: This password is too short"):
        call_command("create_organization", "--name", "Weak", "--owner", "weak", "--password", "abc")
    assert not Organization.objects.filter(name="Weak").exists()
    assert not User.objects.filter(username="weak").exists()


def _demo_counts() -> tuple[int, int, int, int]:
    with scopes_disabled():
        return (
            Organization.objects.filter(name=DEMO_ORGANIZATION).count(),
            Clinic.objects.filter(organization__name=DEMO_ORGANIZATION).count(),
            User.objects.filter(organization__name=DEMO_ORGANIZATION).count(),
            Membership.objects.filter(organization__name=DEMO_ORGANIZATION).count(),
        )


@pytest.mark.django_db
def test_seed_demo_is_idempotent() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = _demo_counts()
    call_command("seed_demo", stdout=StringIO())
    assert _demo_counts() == first == (1, 2, 7, 9)  # six demo logins and one pending invitation
    assert "owner" in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()
    with scopes_disabled():
        roles = set(Membership.objects.filter(organization__name=DEMO_ORGANIZATION).values_list("role", flat=True))
        central = Clinic.objects.get(organization__name=DEMO_ORGANIZATION, is_central=True)
    assert roles == set(Role.values)
    assert central.name == "Clínica Demo — Central"
    assert User.objects.get(username="reception").check_password(DEMO_PASSWORD)
