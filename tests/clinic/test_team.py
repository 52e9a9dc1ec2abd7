"""Team management (issue 14): invitations, roles per clinic, deactivation,
the invitee's page, password reset and the clinic form's time zones.

alice owns both clinics of organization A, maria manages its central clinic,
bob is a receptionist there; charlie owns organization B.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.hashers import is_password_usable
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic import team, tokens
from clinic.errors import ApplicationError, PermissionDenied, ValidationFailed
from clinic.forms import ClinicForm
from clinic.models import ApiToken, MemberEvent, Membership, MemberStatus, Role, User
from clinic.permissions import Perm, roles_with
from clinic.time_zones import utc_offset, zone_label
from tests.conftest import api_client, login, make_member
from tests.factories import MembershipFactory
from tests.ledger.test_concurrency import outcome, run_concurrently

NEW_PASSWORD = "a-fresh-Passw0rd-42"


@pytest.fixture
def maria(tenant_a):
    return make_member(tenant_a, "maria", Role.MANAGER, tenant_a.central)


def _invite(actor, tenant, *, email="nina@example.com", role=Role.RECEPTIONIST, clinics=None, **extra):
    with scopes_disabled():
        clinic_ids = [c.pk for c in (clinics or [tenant.central])]
    return team.member_invite(
        actor=actor, email=email, first_name=extra.get("first_name", "Nina"), last_name="Costa", role=role,
        clinic_ids=clinic_ids,
    )  # fmt: skip


def _link(message) -> str:
    return re.search(r"https?://\S+(/accounts/invitation/\S+/)", message.body).group(1)


def _path_token(path: str) -> tuple[str, str]:
    _empty, _accounts, _invitation, uid, token, _end = path.split("/")
    return uid, token


def _can_log_in(username: str, password: str) -> bool:
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    return "_auth_user_id" in response.wsgi_request.session


def _memberships(user: User) -> list[tuple[str, str]]:
    with scopes_disabled():
        return sorted((m.clinic.name, m.role) for m in Membership.objects.filter(user=user).select_related("clinic"))


def _events(user: User) -> list[tuple[str, str, str, str, str]]:
    with scopes_disabled():
        return [
            (
                e.kind,
                e.actor.username if e.actor else "",
                e.clinic.name if e.clinic else "",
                e.role_before,
                e.role_after,
            )
            for e in MemberEvent.objects.filter(user=user).select_related("actor", "clinic").order_by("pk")
        ]


# Permissions


def test_manage_team_is_held_by_owners_and_managers_and_follows_overrides() -> None:
    assert roles_with(Perm.MANAGE_TEAM) == {"owner", "manager"}
    assert roles_with(Perm.MANAGE_TEAM, {"manage_team": ["owner"]}) == {"owner"}
    assert roles_with(Perm.MANAGE_ORGANIZATION) == {"owner"}


@pytest.mark.django_db
def test_an_override_taking_team_management_from_managers_refuses_their_invitation(maria, tenant_a, in_scope_of):
    tenant_a.organization.permission_overrides = {"manage_team": ["owner"]}
    tenant_a.organization.save()
    with in_scope_of(tenant_a.organization), pytest.raises(PermissionDenied):
        _invite(maria, tenant_a)
    assert login(maria).get("/settings/team/").status_code == 403


# Inviting


@pytest.mark.django_db
def test_invite_creates_an_inactive_user_with_roles_and_mails_a_link(
    alice, tenant_a, in_scope_of, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with in_scope_of(tenant_a.organization), django_capture_on_commit_callbacks(execute=True):
        nina = _invite(alice, tenant_a, email=" Nina@Example.com ", clinics=[tenant_a.central, tenant_a.branch])
    nina.refresh_from_db()
    assert (nina.username, nina.email, nina.first_name, nina.last_name) == (
        "nina@example.com", "nina@example.com", "Nina", "Costa",
    )  # fmt: skip
    assert nina.is_active is False
    assert not is_password_usable(nina.password)
    assert nina.member_status == MemberStatus.INVITED
    assert nina.organization_id == tenant_a.organization.pk
    assert nina.invited_by == alice
    assert _memberships(nina) == [("Alpha Branch", "receptionist"), ("Alpha Central", "receptionist")]
    assert [e[:3] for e in _events(nina)] == [
        ("invited", "alice", "Alpha Central"),
        ("invited", "alice", "Alpha Branch"),
    ]
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["nina@example.com"]
    assert message.subject == "You are invited to join Alpha"
    assert "Alpha Central, Alpha Branch" in message.body
    assert "nina@example.com" in message.body
    _uid, token = _path_token(_link(message))
    assert team.invitation_tokens.check_token(nina, token)


@pytest.mark.django_db
def test_invite_reports_every_problem_at_once(alice, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization), pytest.raises(ValidationFailed) as error:
        team.member_invite(actor=alice, email="not-an-address", first_name=" ", role="boss", clinic_ids=[])
    assert error.value.fields == {
        "email": ["Enter a valid e-mail address."],
        "first_name": ["This field is required."],
        "clinics": ["Choose at least one clinic."],
        "role": ["Choose a role."],
    }
    with scopes_disabled():
        assert not User.objects.filter(first_name="").exists()


@pytest.mark.django_db
def test_an_e_mail_address_already_used_anywhere_is_refused(alice, bob, charlie, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        for email in ("BOB@example.com", "charlie@example.com"):
            with pytest.raises(ValidationFailed) as error:
                _invite(alice, tenant_a, email=email)
            assert error.value.fields == {"email": ["Someone already has an account with this e-mail address."]}


@pytest.mark.django_db
def test_the_database_refuses_two_users_with_one_e_mail_address(bob, tenant_a) -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        User.objects.create(username="bob2", email="Bob@Example.com", organization=tenant_a.organization)


@pytest.mark.django_db
def test_a_manager_cannot_invite_an_owner_nor_into_a_clinic_they_do_not_manage(maria, tenant_a, in_scope_of):
    with in_scope_of(tenant_a.organization):
        with pytest.raises(ValidationFailed) as owner:
            _invite(maria, tenant_a, role=Role.OWNER)
        with pytest.raises(ValidationFailed) as branch:
            _invite(maria, tenant_a, clinics=[tenant_a.branch])
        nina = _invite(maria, tenant_a, role=Role.MANAGER)
    assert owner.value.fields == {"role": ["Only an owner can make someone an owner."]}
    assert branch.value.fields == {"clinics": ["You do not manage the team of Alpha Branch."]}
    assert _memberships(nina) == [("Alpha Central", "manager")]


@pytest.mark.django_db
def test_a_receptionist_cannot_invite(bob, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization), pytest.raises(PermissionDenied):
        _invite(bob, tenant_a)


@pytest.mark.django_db
def test_another_organizations_clinic_cannot_be_named(alice, tenant_a, tenant_b, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization), pytest.raises(ValidationFailed) as error:
        _invite(alice, tenant_a, clinics=[tenant_b.central])
    assert error.value.fields == {"clinics": ["Choose among your organization's active clinics."]}


# Accepting


@pytest.mark.django_db
def test_accepting_sets_the_password_activates_and_spends_the_link(alice, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        nina = _invite(alice, tenant_a)
        token = team.invitation_tokens.make_token(nina)
        team.invitation_accept(user=nina, token=token, password=NEW_PASSWORD)
        nina.refresh_from_db()
        assert nina.is_active
        assert nina.check_password(NEW_PASSWORD)
        assert nina.member_status == MemberStatus.ACTIVE
        with pytest.raises(ValidationFailed) as again:
            team.invitation_accept(user=nina, token=token, password="another-Passw0rd-99")
    assert again.value.code == "invitation_invalid"
    nina.refresh_from_db()
    assert nina.check_password(NEW_PASSWORD)
    assert _events(nina)[-1] == ("joined", "nina@example.com", "", "", "")


@pytest.mark.django_db
def test_accepting_checks_the_password_validators(alice, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        nina = _invite(alice, tenant_a)
        with pytest.raises(ValidationFailed) as error:
            team.invitation_accept(user=nina, token=team.invitation_tokens.make_token(nina), password="12345678")
    assert "This password is entirely numeric." in error.value.fields["password"]
    nina.refresh_from_db()
    assert nina.is_active is False


@pytest.mark.django_db
def test_sending_again_retires_the_earlier_link(
    alice, tenant_a, in_scope_of, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with in_scope_of(tenant_a.organization), django_capture_on_commit_callbacks(execute=True):
        nina = _invite(alice, tenant_a)
    with in_scope_of(tenant_a.organization), django_capture_on_commit_callbacks(execute=True):
        team.member_resend_invitation(actor=alice, user=nina)
    first, second = (_path_token(_link(message))[1] for message in mailoutbox)
    nina.refresh_from_db()
    assert not team.invitation_tokens.check_token(nina, first)
    assert team.invitation_tokens.check_token(nina, second)
    assert [e[0] for e in _events(nina)] == ["invited", "invitation_sent"]


@pytest.mark.django_db
def test_an_invitation_link_expires(alice, tenant_a, in_scope_of, settings, monkeypatch) -> None:
    with in_scope_of(tenant_a.organization):
        nina = _invite(alice, tenant_a)
    token = team.invitation_tokens.make_token(nina)
    later = dt.datetime.now() + dt.timedelta(seconds=settings.INVITATION_TIMEOUT + 60)
    assert team.invitation_tokens.check_token(nina, token)
    monkeypatch.setattr(team.invitation_tokens, "_now", lambda: later)
    assert not team.invitation_tokens.check_token(nina, token)


@pytest.mark.django_db
def test_only_a_pending_invitation_can_be_sent_again(alice, bob, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization), pytest.raises(ValidationFailed) as error:
        team.member_resend_invitation(actor=alice, user=bob)
    assert error.value.code == "not_invited"


# Deactivating and reactivating


@pytest.mark.django_db
def test_a_deactivated_person_cannot_log_in_and_keeps_their_name_and_roles(alice, bob, tenant_a, in_scope_of, password):
    client = login(bob)
    _token, key = tokens.token_issue(user=bob, name="phone")
    with in_scope_of(tenant_a.organization):
        team.member_deactivate(actor=alice, user=bob)
    bob.refresh_from_db()
    assert bob.is_active is False
    assert bob.member_status == MemberStatus.DEACTIVATED
    assert bob.deactivated_at is not None
    assert str(bob) == bob.get_full_name()
    assert _memberships(bob) == [("Alpha Central", "receptionist")]
    assert _events(bob) == [("deactivated", "alice", "", "", "")]
    # The open session ends, the password no longer works, the token is gone.
    assert client.get("/").status_code == 302
    assert not _can_log_in("bob", password)
    response = Client().post("/accounts/login/", {"username": "bob", "password": password})
    assert response.status_code == 200
    assert "_auth_user_id" not in response.wsgi_request.session
    assert not ApiToken.objects.filter(user=bob).exists()
    assert tokens.token_for_key(key) is None


@pytest.mark.django_db
def test_nobody_deactivates_themselves(alice, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization), pytest.raises(ValidationFailed) as error:
        team.member_deactivate(actor=alice, user=alice)
    assert error.value.code == "self_deactivation"


@pytest.mark.django_db
def test_the_last_active_owner_stays(alice, tenant_a, in_scope_of) -> None:
    # Another owner of the organization who was deactivated counts for nothing.
    olga = make_member(tenant_a, "olga", Role.OWNER, tenant_a.central)
    # An organization whose managers may manage it too (they may then touch owners).
    tenant_a.organization.permission_overrides = {"manage_organization": ["owner", "manager"]}
    tenant_a.organization.save()
    mario = make_member(tenant_a, "mario", Role.MANAGER, tenant_a.central, tenant_a.branch)
    with in_scope_of(tenant_a.organization):
        team.member_deactivate(actor=alice, user=olga)
        with pytest.raises(ValidationFailed) as demote:
            team.member_set_roles(actor=alice, user=alice, roles={tenant_a.central.pk: Role.MANAGER,
                                                                 tenant_a.branch.pk: Role.MANAGER})  # fmt: skip
        with pytest.raises(ValidationFailed) as deactivate:
            team.member_deactivate(actor=mario, user=alice)
    assert (demote.value.code, deactivate.value.code) == ("last_owner", "last_owner")
    assert demote.value.fields == {
        "roles": ["The organization needs at least one active owner. Make someone else owner first."]
    }
    alice.refresh_from_db()
    assert alice.is_active
    assert _memberships(alice) == [("Alpha Branch", "owner"), ("Alpha Central", "owner")]


@pytest.mark.django_db
def test_a_second_owner_can_be_deactivated_by_the_first(alice, tenant_a, in_scope_of) -> None:
    olga = make_member(tenant_a, "olga", Role.OWNER, tenant_a.central)
    with in_scope_of(tenant_a.organization):
        team.member_deactivate(actor=alice, user=olga)
        with pytest.raises(PermissionDenied) as error:
            team.member_deactivate(actor=olga, user=alice)
    assert error.value.code == "actor_inactive"
    olga.refresh_from_db()
    assert olga.is_active is False


@pytest.mark.django_db
def test_a_manager_can_neither_change_nor_deactivate_an_owner(alice, maria, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        with pytest.raises(PermissionDenied) as deactivate:
            team.member_deactivate(actor=maria, user=alice)
        with pytest.raises(PermissionDenied) as roles:
            team.member_set_roles(actor=maria, user=alice, roles={tenant_a.central.pk: Role.RECEPTIONIST})
    assert (deactivate.value.code, roles.value.code) == ("owner_protected", "owner_protected")
    alice.refresh_from_db()
    assert alice.is_active
    assert _memberships(alice) == [("Alpha Branch", "owner"), ("Alpha Central", "owner")]


@pytest.mark.django_db
def test_a_manager_deactivates_only_people_of_the_clinics_they_manage(maria, tenant_a, in_scope_of) -> None:
    both = make_member(tenant_a, "both", Role.RECEPTIONIST, tenant_a.central, tenant_a.branch)
    with in_scope_of(tenant_a.organization):
        with pytest.raises(PermissionDenied):
            team.member_deactivate(actor=maria, user=both)
        team.member_set_roles(actor=maria, user=both, roles={tenant_a.central.pk: Role.PROFESSIONAL})
    assert _memberships(both) == [("Alpha Branch", "receptionist"), ("Alpha Central", "professional")]


@pytest.mark.django_db
def test_reactivating_gives_back_the_access(alice, bob, tenant_a, in_scope_of, password) -> None:
    lost_phone = Client()
    assert lost_phone.post("/accounts/login/", {"username": "bob", "password": password}).status_code == 302
    with in_scope_of(tenant_a.organization):
        team.member_deactivate(actor=alice, user=bob)
        team.member_reactivate(actor=alice, user=bob)
    bob.refresh_from_db()
    assert (bob.is_active, bob.deactivated_at) == (True, None)
    assert _can_log_in("bob", password)
    assert lost_phone.get("/").status_code == 302  # deactivating ended that session: not back with the access
    assert [e[0] for e in _events(bob)] == ["deactivated", "reactivated"]


@pytest.mark.django_db
def test_a_withdrawn_invitation_stops_working_and_reactivating_sends_a_new_one(
    alice, tenant_a, in_scope_of, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with in_scope_of(tenant_a.organization):
        nina = _invite(alice, tenant_a)
        token = team.invitation_tokens.make_token(nina)
        team.member_deactivate(actor=alice, user=nina)
        nina.refresh_from_db()
        assert nina.member_status == MemberStatus.DEACTIVATED
        with pytest.raises(ValidationFailed) as error:
            team.invitation_accept(user=nina, token=token, password=NEW_PASSWORD)
        assert error.value.code == "invitation_invalid"
        with django_capture_on_commit_callbacks(execute=True):
            team.member_reactivate(actor=alice, user=nina)
    nina.refresh_from_db()
    assert nina.member_status == MemberStatus.INVITED
    assert nina.is_active is False
    assert [m.to for m in mailoutbox] == [["nina@example.com"]]


# Roles


@pytest.mark.django_db
def test_roles_change_per_clinic_with_history(alice, bob, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        team.member_set_roles(
            actor=alice, user=bob, roles={tenant_a.central.pk: Role.MANAGER, tenant_a.branch.pk: Role.PROFESSIONAL}
        )
        assert _memberships(bob) == [("Alpha Branch", "professional"), ("Alpha Central", "manager")]
        team.member_set_roles(actor=alice, user=bob, roles={tenant_a.branch.pk: None})
        history = list(Membership.history.filter(user_id=bob.pk).order_by("history_id"))
    assert _memberships(bob) == [("Alpha Central", "manager")]
    assert _events(bob) == [
        ("role_changed", "alice", "Alpha Central", "receptionist", "manager"),
        ("role_changed", "alice", "Alpha Branch", "", "professional"),
        ("role_changed", "alice", "Alpha Branch", "professional", ""),
    ]
    # The memberships' own history says who, too (factory row first).
    assert [(h.history_type, h.role, h.history_user_id) for h in history] == [
        ("+", "receptionist", None), ("~", "manager", alice.pk), ("+", "professional", alice.pk),
        ("-", "professional", alice.pk),
    ]  # fmt: skip


@pytest.mark.django_db
def test_roles_are_refused_all_at_once(maria, bob, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization), pytest.raises(ValidationFailed) as error:
        team.member_set_roles(
            actor=maria, user=bob, roles={tenant_a.central.pk: Role.OWNER, tenant_a.branch.pk: Role.RECEPTIONIST}
        )
    assert error.value.fields == {
        f"roles.{tenant_a.central.pk}": ["Only an owner can give or take the owner role."],
        f"roles.{tenant_a.branch.pk}": ["You do not manage the team of Alpha Branch."],
    }
    assert _memberships(bob) == [("Alpha Central", "receptionist")]


@pytest.mark.django_db
def test_an_active_person_keeps_at_least_one_clinic(alice, bob, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization), pytest.raises(ValidationFailed) as error:
        team.member_set_roles(actor=alice, user=bob, roles={tenant_a.central.pk: ""})
    assert error.value.fields == {"roles": ["Keep at least one clinic. To end this person's access, deactivate them."]}


@pytest.mark.django_db
def test_another_organizations_person_cannot_be_changed(alice, charlie, tenant_a, tenant_b, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        for action in (team.member_deactivate, team.member_reactivate, team.member_resend_invitation):
            with pytest.raises(ApplicationError):
                action(actor=alice, user=charlie)
        with pytest.raises(ApplicationError):
            team.member_set_roles(actor=alice, user=charlie, roles={tenant_a.central.pk: Role.RECEPTIONIST})
    charlie.refresh_from_db()
    assert charlie.is_active
    assert _memberships(charlie) == [("Beta Branch", "owner"), ("Beta Central", "owner")]


# Race


@pytest.mark.django_db(transaction=True)
def test_two_owners_deactivating_each_other_at_once_leave_one_owner(tenant_a) -> None:
    assert connection.vendor == "postgresql"
    alice = make_member(tenant_a, "alice", Role.OWNER, tenant_a.central)
    olga = make_member(tenant_a, "olga", Role.OWNER, tenant_a.central)
    pairs = [(alice, olga), (olga, alice)]

    def work(i: int) -> object:
        actor, target = pairs[i]
        with scopes_disabled():
            actor, target = User.objects.get(pk=actor.pk), User.objects.get(pk=target.pk)
        from clinic.tenancy import organization_scope

        with organization_scope(tenant_a.organization):
            return team.member_deactivate(actor=actor, user=target)

    results = run_concurrently(work, count=2)
    outcomes = sorted(outcome(result) for result in results)
    assert outcomes == ["actor_inactive", "ok"]
    with scopes_disabled():
        assert User.objects.filter(pk__in=[alice.pk, olga.pk], is_active=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(tenant_a) -> None:
    alice = make_member(tenant_a, "alice", Role.OWNER, tenant_a.central)
    olga = make_member(tenant_a, "olga", Role.OWNER, tenant_a.central)
    pairs = [(alice, olga), (olga, alice)]

    def work(i: int) -> object:
        from clinic.tenancy import organization_scope

        actor, target = pairs[i]
        with organization_scope(tenant_a.organization):
            return team.member_set_roles(actor=actor, user=target, roles={tenant_a.central.pk: Role.MANAGER})

    outcomes = sorted(outcome(result) for result in run_concurrently(work, count=2))
    # The second sees the first's change: it is no longer an owner (no
    # power over an owner) or the organization's last owner.
    assert outcomes in (["ok", "owner_protected"], ["last_owner", "ok"])
    with scopes_disabled():
        assert Membership.objects.filter(role=Role.OWNER, user__in=[alice, olga]).count() == 1


# Pages


@pytest.mark.django_db
def test_team_page_lists_people_roles_status_and_last_login(alice, bob, charlie, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        _invite(alice, tenant_a)
    client = login(alice)
    response = client.get("/settings/team/")
    assert response.status_code == 200
    rows = {row["user"].username: row for row in response.context["rows"]}
    assert sorted(rows) == ["alice", "bob", "nina@example.com"]
    assert rows["nina@example.com"]["status"] == MemberStatus.INVITED
    assert [(m.clinic.name, m.role) for m in rows["alice"]["memberships"]] == [
        ("Alpha Central", "owner"), ("Alpha Branch", "owner"),
    ]  # fmt: skip
    content = response.content.decode()
    assert "Not yet accepted" in content
    assert "bob@example.com" in content
    assert "Never" in content  # bob never logged in
    assert "charlie" not in content
    assert "Beta" not in content
    assert response.context["counts"] == {"current": 3, "deactivated": 0, "all": 3}


@pytest.mark.django_db
def test_team_page_filters_deactivated_people(alice, bob, tenant_a, in_scope_of) -> None:
    with in_scope_of(tenant_a.organization):
        team.member_deactivate(actor=alice, user=bob)
    client = login(alice)
    assert [r["user"].username for r in client.get("/settings/team/").context["rows"]] == ["alice"]
    assert [r["user"].username for r in client.get("/settings/team/?status=deactivated").context["rows"]] == ["bob"]


@pytest.mark.django_db
def test_team_pages_are_for_owners_and_managers(bob, maria, tenant_a) -> None:
    assert login(bob).get("/settings/team/").status_code == 403
    assert login(bob).get("/settings/team/invite/").status_code == 403
    assert 'data-testid="settings-team"' not in login(bob).get("/settings/").content.decode()
    assert login(maria).get("/settings/team/").status_code == 200
    assert 'data-testid="settings-team"' in login(maria).get("/settings/").content.decode()


@pytest.mark.django_db
def test_team_list_query_count_does_not_grow(alice, tenant_a) -> None:
    client = login(alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/settings/team/").status_code == 200
        return len(context.captured_queries)

    one = queries()
    for n in range(15):
        make_member(tenant_a, f"person{n}", Role.RECEPTIONIST, tenant_a.central, tenant_a.branch)
    assert len(client.get("/settings/team/").context["rows"]) == 16
    assert queries() == one


@pytest.mark.django_db
def test_every_team_page_answers_404_for_another_organizations_person(alice, charlie, tenant_a) -> None:
    client = login(alice)
    assert client.get(f"/settings/team/{charlie.pk}/").status_code == 404
    for action in ("", "deactivate/", "reactivate/", "resend/"):
        response = client.post(f"/settings/team/{charlie.pk}/{action}", {f"role_{tenant_a.central.pk}": "manager"})
        assert response.status_code == 404, action
        assert b"charlie" not in response.content
    assert client.get("/settings/team/999999/").status_code == 404
    charlie.refresh_from_db()
    assert charlie.is_active
    assert _memberships(charlie) == [("Beta Branch", "owner"), ("Beta Central", "owner")]


@pytest.mark.django_db
def test_invite_page_sends_the_invitation(alice, tenant_a, mailoutbox, django_capture_on_commit_callbacks) -> None:
    client = login(alice)
    form = client.get("/settings/team/invite/").context["form"]
    assert [c[0] for c in form.fields["role"].choices] == ["owner", "manager", "receptionist", "professional"]
    data = {"first_name": "Nina", "last_name": "Costa", "email": "nina@example.com", "role": "receptionist",
            "clinics": [tenant_a.branch.pk]}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/team/invite/", data)
    assert response.status_code == 302
    assert response["Location"] == "/settings/team/"
    nina = User.objects.get(email="nina@example.com")
    assert _memberships(nina) == [("Alpha Branch", "receptionist")]
    assert [m.to for m in mailoutbox] == [["nina@example.com"]]
    again = client.post("/settings/team/invite/", data)
    assert again.status_code == 200
    assert again.context["form"].errors == {"email": ["Someone already has an account with this e-mail address."]}


@pytest.mark.django_db
def test_a_managers_invite_form_offers_no_owner_role_and_only_their_clinics(maria, tenant_a) -> None:
    form = login(maria).get("/settings/team/invite/").context["form"]
    assert [c[0] for c in form.fields["role"].choices] == ["manager", "receptionist", "professional"]
    assert form.fields["clinics"].choices == [(tenant_a.central.pk, "Alpha Central")]


@pytest.mark.django_db
def test_member_page_changes_roles_and_shows_the_history(alice, bob, tenant_a) -> None:
    client = login(alice)
    page = client.get(f"/settings/team/{bob.pk}/")
    assert page.status_code == 200
    response = client.post(
        f"/settings/team/{bob.pk}/",
        {f"role_{tenant_a.central.pk}": "receptionist", f"role_{tenant_a.branch.pk}": "professional"},
    )
    assert response.status_code == 302
    assert _memberships(bob) == [("Alpha Branch", "professional"), ("Alpha Central", "receptionist")]
    content = client.get(f"/settings/team/{bob.pk}/").content.decode()
    assert "Role in Alpha Branch: No access → Professional" in content


@pytest.mark.django_db
def test_member_page_shows_a_refusal_on_the_form(alice, tenant_a) -> None:
    response = login(alice).post(
        f"/settings/team/{alice.pk}/",
        {f"role_{tenant_a.central.pk}": "manager", f"role_{tenant_a.branch.pk}": "manager"},
    )
    assert response.status_code == 200
    assert "The organization needs at least one active owner. Make someone else owner first." in (
        response.content.decode().replace("&#x27;", "'")
    )
    assert _memberships(alice) == [("Alpha Branch", "owner"), ("Alpha Central", "owner")]


@pytest.mark.django_db
def test_a_manager_sees_an_owner_read_only(alice, maria) -> None:
    response = login(maria).get(f"/settings/team/{alice.pk}/")
    form = response.context["form"]
    assert form.can_change is False
    assert response.context["may_act"] is False
    assert 'data-testid="member-deactivate"' not in response.content.decode()


@pytest.mark.django_db
def test_deactivate_and_reactivate_buttons(alice, bob, password) -> None:
    client = login(alice)
    response = client.post(f"/settings/team/{bob.pk}/deactivate/", follow=True)
    assert response.redirect_chain == [(f"/settings/team/{bob.pk}/", 302)]
    assert "was deactivated and can no longer log in" in response.content.decode()
    assert not _can_log_in("bob", password)
    own = client.post(f"/settings/team/{alice.pk}/deactivate/", follow=True)
    assert "You cannot deactivate yourself." in own.content.decode()
    client.post(f"/settings/team/{bob.pk}/reactivate/")
    assert _can_log_in("bob", password)


@pytest.mark.django_db(transaction=True)
def test_the_invitation_link_activates_the_account_once(alice, tenant_a, mailoutbox) -> None:
    from clinic.tenancy import organization_scope

    with organization_scope(tenant_a.organization):
        _invite(alice, tenant_a)
    path = _link(mailoutbox[0])
    client = Client()
    opened = client.get(path)
    uid, _token = _path_token(path)
    assert opened.status_code == 302
    assert opened["Location"] == f"/accounts/invitation/{uid}/set-password/"
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert "Welcome, Nina" in page.content.decode()
    weak = client.post(opened["Location"], {"new_password1": "nina", "new_password2": "nina"})
    assert weak.status_code == 200
    assert weak.context["form"].errors["new_password2"]
    done = client.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == "/"
    assert client.session["_auth_user_id"] == str(User.objects.get(email="nina@example.com").pk)
    # Spent: the same link now says it no longer works, for anyone.
    spent = Client().get(path)
    assert spent.status_code == 200
    assert 'data-testid="invitation-invalid"' in spent.content.decode()
    assert _can_log_in("nina@example.com", NEW_PASSWORD)


@pytest.mark.django_db
def test_a_forged_invitation_link_reveals_nothing(alice, bob) -> None:
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    for uid in (urlsafe_base64_encode(force_bytes(bob.pk)), "garbage", urlsafe_base64_encode(b"999999")):
        response = Client().get(f"/accounts/invitation/{uid}/1-abc/")
        assert response.status_code == 200
        assert 'data-testid="invitation-invalid"' in response.content.decode()
        assert "bob" not in response.content.decode()
    assert (
        Client().get(f"/accounts/invitation/{urlsafe_base64_encode(force_bytes(bob.pk))}/set-password/").status_code
        == 200
    )


# Password reset


@pytest.mark.django_db
def test_login_page_offers_the_password_reset() -> None:
    content = Client().get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in content
    assert "Forgot your password?" in content


@pytest.mark.django_db
def test_password_reset_answers_alike_and_mails_only_known_active_people(
    alice, bob, tenant_a, in_scope_of, django_capture_on_commit_callbacks
) -> None:
    with in_scope_of(tenant_a.organization):
        nina = _invite(alice, tenant_a)  # invited, no password yet
        team.member_deactivate(actor=alice, user=bob)
    answers = []
    for email in ("alice@example.com", "nobody@example.com", "bob@example.com", nina.email):
        with django_capture_on_commit_callbacks(execute=True):  # the e-mail is queued on commit
            response = Client().post("/accounts/password/reset/", {"email": email})
        answers.append((response.status_code, response["Location"]))
    assert answers == [(302, "/accounts/password/reset/done/")] * 4
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert mail.outbox[0].subject == "Choose a new password"
    assert "http://testserver/accounts/password/reset/" in mail.outbox[0].body
    assert "Your username: alice" in mail.outbox[0].body


@pytest.mark.django_db
def test_password_reset_link_sets_a_new_password(alice, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/password/reset/", {"email": "ALICE@example.com"})
    path = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    form_url = client.get(path)["Location"]
    assert client.get(form_url).context["validlink"] is True
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/password/reset/complete/"
    assert _can_log_in("alice", NEW_PASSWORD)
    assert Client().get(path, follow=True).context["validlink"] is False  # used once


# The clinic form's time zones


def test_time_zone_labels_are_readable() -> None:
    assert zone_label("America/Sao_Paulo") == "São Paulo (UTC\N{MINUS SIGN}03:00)"
    assert zone_label("Asia/Kolkata") == "Kolkata (UTC+05:30)"
    assert zone_label("America/Argentina/Buenos_Aires", with_region=True).startswith(
        "Buenos Aires · America / Argentina"
    )
    winter = dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
    assert utc_offset("Europe/Berlin", winter) == "UTC+01:00"


def test_the_clinic_countrys_time_zones_come_first() -> None:
    brazil = ClinicForm(initial={"country": "BR", "time_zone": "America/Sao_Paulo"}).fields["time_zone"].choices
    (group, zones), (rest_label, rest) = brazil
    assert group == "The clinic's country"
    assert rest_label == "Other time zones"
    assert ("America/Sao_Paulo", "São Paulo (UTC\N{MINUS SIGN}03:00)") in zones
    assert "America/Sao_Paulo" not in [value for value, _label in rest]
    assert rest[0][1].startswith("Abidjan")
    germany = ClinicForm(data={"country": "de", "name": "x"}).fields["time_zone"].choices
    assert [value for value, _label in germany[0][1]] == ["Europe/Berlin", "Europe/Busingen"]


def test_a_saved_old_alias_stays_selectable() -> None:
    form = ClinicForm(initial={"country": "BR", "time_zone": "Brazil/East"})
    values = [value for _group, choices in form.fields["time_zone"].choices for value, _label in choices]
    assert "Brazil/East" in values
    assert "US/Pacific" not in values


@pytest.mark.django_db
def test_clinic_form_page_groups_the_time_zones(alice, tenant_a) -> None:
    content = login(alice).get(f"/settings/clinics/{tenant_a.central.pk}/").content.decode()
    assert '<optgroup label="The clinic&#x27;s country">' in content
    assert '<option value="America/Sao_Paulo" selected>São Paulo (UTC\N{MINUS SIGN}03:00)</option>' in content


# Demo and API


@pytest.mark.django_db
def test_demo_has_a_pending_invitation() -> None:
    from io import StringIO

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        sofia = User.objects.get(email="sofia.nunes@clinica-demo.example")
        assert sofia.member_status == MemberStatus.INVITED
        assert _memberships(sofia) == [("Clínica Demo — Moema", "receptionist")]
        assert User.objects.filter(email__iexact="sofia.nunes@clinica-demo.example").count() == 1


@pytest.mark.django_db
def test_a_deactivated_persons_api_token_no_longer_works(alice, bob, tenant_a, in_scope_of) -> None:
    client = api_client(bob)
    assert client.get("/api/v1/clinics/").status_code == 200
    with in_scope_of(tenant_a.organization):
        team.member_deactivate(actor=alice, user=bob)
    assert client.get("/api/v1/clinics/").status_code == 401


@pytest.mark.django_db
def test_a_membership_of_another_person_is_untouched(alice, bob, tenant_a, in_scope_of) -> None:
    other = MembershipFactory(clinic=tenant_a.branch, role=Role.PROFESSIONAL)
    with in_scope_of(tenant_a.organization):
        team.member_set_roles(actor=alice, user=bob, roles={tenant_a.branch.pk: Role.RECEPTIONIST})
    assert _memberships(other.user) == [("Alpha Branch", "professional")]


@pytest.mark.django_db
def test_a_password_reset_with_the_broker_down_answers_as_always(
    alice, monkeypatch, caplog, django_capture_on_commit_callbacks
) -> None:
    """The broker refuses the e-mail's task: the page still says "check your
    e-mail" (as for an unknown address), and the task waits in the outbox
    for the relay (tests/scheduling/test_faults.py runs a real one)."""
    from clinic.celery import app
    from clinic.models import OutboxMessage

    def unreachable(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app, "send_task", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password/reset/", {"email": alice.email})
    assert response.status_code == 302
    assert response["Location"].endswith("/accounts/password/reset/done/")
    assert "kept in the outbox" in caplog.text
    [message] = OutboxMessage.objects.all()
    assert (message.task, message.sent_at, message.args[0]) == ("clinic.tasks.send_password_reset", None, alice.pk)
