"""Rooms: the API, the Settings pages, roles and the tenant boundary."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.models import Role, Room
from tests.conftest import api_client, login, make_member
from tests.factories import MembershipFactory, RoomFactory

FORBIDDEN = {"code": "permission_denied", "detail": "Your role does not allow this action.", "fields": {}}
NOT_FOUND = {"code": "not_found", "detail": "Not found.", "fields": {}}


def _validation(fields: dict) -> dict:
    return {"code": "validation_error", "detail": "Some fields are not valid.", "fields": fields}


@pytest.fixture
def sala(tenant_a) -> Room:
    return RoomFactory(clinic=tenant_a.central, name="Sala 1")


@pytest.fixture
def beta_room(tenant_b, charlie) -> Room:
    return RoomFactory(clinic=tenant_b.central, name="Beta Secret Room")


@pytest.fixture
def manager(tenant_a):
    return make_member(tenant_a, "maria", Role.MANAGER)


# API


@pytest.mark.django_db
def test_api_room_fields(alice, sala, tenant_a) -> None:
    assert api_client(alice).get(f"/api/v1/rooms/{sala.pk}/").json() == {
        "id": sala.pk,
        "name": "Sala 1",
        "clinic": tenant_a.central.pk,
        "is_active": True,
    }


@pytest.mark.django_db
def test_api_room_list_shows_the_current_clinic_unless_told_otherwise(alice, sala, tenant_a) -> None:
    RoomFactory(clinic=tenant_a.central, name="Sala 2", is_active=False)
    RoomFactory(clinic=tenant_a.branch, name="Consultório 1")
    client = api_client(alice)

    def names(path: str, **headers: str) -> list[str]:
        return [r["name"] for r in client.get(path, **headers).json()["results"]]

    assert names("/api/v1/rooms/") == ["Sala 1", "Sala 2"]
    assert names("/api/v1/rooms/", HTTP_X_CLINIC=str(tenant_a.branch.pk)) == ["Consultório 1"]
    assert names(f"/api/v1/rooms/?clinic={tenant_a.branch.pk}") == ["Consultório 1"]
    assert names("/api/v1/rooms/?is_active=false") == ["Sala 2"]


@pytest.mark.django_db
def test_owner_creates_renames_and_deactivates_a_room(alice, tenant_a) -> None:
    client = api_client(alice)
    response = client.post("/api/v1/rooms/", {"name": " Estúdio de Pilates "})
    assert response.status_code == 201
    created = response.json()
    assert created == {
        "id": created["id"],
        "name": "Estúdio de Pilates",
        "clinic": tenant_a.central.pk,
        "is_active": True,
    }
    response = client.patch(f"/api/v1/rooms/{created['id']}/", {"name": "Estúdio"})
    assert (response.status_code, response.json()["name"]) == (200, "Estúdio")
    response = client.patch(f"/api/v1/rooms/{created['id']}/", {"is_active": False})
    assert (response.status_code, response.json()["is_active"]) == (200, False)
    with scopes_disabled():
        room = Room.objects.get(pk=created["id"])
        assert [
            (h.history_type, h.name, h.is_active, h.history_user) for h in room.history.order_by("history_date")
        ] == [
            ("+", "Estúdio de Pilates", True, alice),
            ("~", "Estúdio", True, alice),
            ("~", "Estúdio", False, alice),
        ]
    assert client.delete(f"/api/v1/rooms/{created['id']}/").status_code == 405


@pytest.mark.django_db
def test_api_room_validation_errors(alice, sala, tenant_a) -> None:
    client = api_client(alice)
    response = client.post("/api/v1/rooms/", {"name": "sala 1"})
    assert (response.status_code, response.json()) == (
        400,
        _validation({"name": ["This clinic already has a room with this name."]}),
    )
    response = client.post("/api/v1/rooms/", {"name": ""})
    assert (response.status_code, response.json()) == (400, _validation({"name": ["This field may not be blank."]}))
    # The same name in another clinic is fine.
    assert client.post("/api/v1/rooms/", {"name": "Sala 1", "clinic": tenant_a.branch.pk}).status_code == 201


@pytest.mark.django_db
def test_manager_writes_rooms(manager, sala) -> None:
    client = api_client(manager)
    assert client.post("/api/v1/rooms/", {"name": "Sala 3"}).status_code == 201
    assert client.patch(f"/api/v1/rooms/{sala.pk}/", {"name": "Sala Um"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["bob", "paula"])
def test_receptionist_and_professional_read_but_cannot_write_rooms(persona, request, sala) -> None:
    client = api_client(request.getfixturevalue(persona))
    assert [r["name"] for r in client.get("/api/v1/rooms/").json()["results"]] == ["Sala 1"]
    for response in (
        client.post("/api/v1/rooms/", {"name": "X"}),
        client.patch(f"/api/v1/rooms/{sala.pk}/", {"name": "X"}),
        client.put(f"/api/v1/rooms/{sala.pk}/", {"name": "X"}),
        client.patch(f"/api/v1/rooms/{sala.pk}/", {"is_active": False}),
    ):
        assert (response.status_code, response.json()) == (403, FORBIDDEN)
    sala.refresh_from_db()
    assert (sala.name, sala.is_active) == ("Sala 1", True)


@pytest.mark.django_db
def test_api_room_write_needs_the_permission_in_the_room_clinic(tenant_a, sala) -> None:
    user = make_member(tenant_a, "mixed", Role.MANAGER, tenant_a.branch)
    MembershipFactory(user=user, clinic=tenant_a.central, role=Role.RECEPTIONIST)
    client = api_client(user)
    response = client.patch(f"/api/v1/rooms/{sala.pk}/", {"name": "X"}, HTTP_X_CLINIC=str(tenant_a.branch.pk))
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


@pytest.mark.django_db
def test_api_room_of_another_organization_is_404(alice, beta_room, tenant_b) -> None:
    client = api_client(alice)
    url = f"/api/v1/rooms/{beta_room.pk}/"
    for response in (
        client.get(url),
        client.patch(url, {"name": "Hacked"}),
        client.put(url, {"name": "Hacked"}),
        client.patch(url, {"is_active": False}),
        client.get("/api/v1/rooms/999999/"),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    response = client.post("/api/v1/rooms/", {"name": "X", "clinic": tenant_b.central.pk})
    assert (response.status_code, response.json()) == (
        400,
        _validation({"clinic": [f'Invalid pk "{tenant_b.central.pk}" - object does not exist.']}),
    )
    # A filter by an id the organization does not have matches nothing, like a missing id.
    response = client.get(f"/api/v1/rooms/?clinic={tenant_b.central.pk}")
    assert (response.status_code, response.json()["results"]) == (200, [])
    assert "Beta" not in client.get("/api/v1/rooms/").content.decode()
    beta_room.refresh_from_db()
    assert (beta_room.name, beta_room.is_active) == ("Beta Secret Room", True)


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
def test_room_lists_query_count_does_not_grow(alice, tenant_a, beta_room) -> None:
    api, web = api_client(alice), login(alice)
    RoomFactory(clinic=tenant_a.central)
    api_one, web_one = _queries(api, "/api/v1/rooms/"), _queries(web, "/settings/rooms/")
    for _ in range(29):
        RoomFactory(clinic=tenant_a.central)
    assert api.get("/api/v1/rooms/").json()["count"] == 30
    assert _queries(api, "/api/v1/rooms/") == api_one
    assert _queries(web, "/settings/rooms/") == web_one


# Pages


@pytest.mark.django_db
def test_room_list_page_shows_the_current_clinic(alice, sala, tenant_a, beta_room) -> None:
    RoomFactory(clinic=tenant_a.central, name="Sala 2", is_active=False)
    RoomFactory(clinic=tenant_a.branch, name="Consultório 1")
    client = login(alice)
    response = client.get("/settings/rooms/")
    assert [room.name for room in response.context["rooms"]] == ["Sala 1"]
    content = response.content.decode()
    assert "New room" in content
    assert "Beta" not in content
    assert "Consultório 1" not in content
    assert [r.name for r in client.get("/settings/rooms/?status=inactive").context["rooms"]] == ["Sala 2"]
    assert [r.name for r in client.get("/settings/rooms/?status=all").context["rooms"]] == ["Sala 1", "Sala 2"]


@pytest.mark.django_db
def test_owner_creates_and_edits_a_room_in_settings(alice, sala, tenant_a) -> None:
    client = login(alice)
    response = client.post("/settings/rooms/new/", {"name": "Sala 2"})
    assert (response.status_code, response["Location"]) == (302, "/settings/rooms/")
    with scopes_disabled():
        room = Room.objects.get(name="Sala 2")
    assert room.clinic == tenant_a.central
    assert "Room “Sala 2” created." in client.get("/settings/rooms/").content.decode()
    assert client.post(f"/settings/rooms/{room.pk}/", {"name": "Sala Dois"}).status_code == 302
    room.refresh_from_db()
    assert room.name == "Sala Dois"


@pytest.mark.django_db
def test_room_form_shows_errors(alice, sala) -> None:
    response = login(alice).post("/settings/rooms/new/", {"name": "SALA 1"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["This clinic already has a room with this name."]}
    assert "This clinic already has a room with this name." in response.content.decode()


@pytest.mark.django_db
def test_owner_deactivates_and_reactivates_a_room(alice, sala) -> None:
    client = login(alice)
    response = client.post(f"/settings/rooms/{sala.pk}/deactivate/")
    assert (response.status_code, response["Location"]) == (302, "/settings/rooms/")
    sala.refresh_from_db()
    assert sala.is_active is False
    assert "“Sala 1” deactivated: no new bookings." in client.get("/settings/rooms/").content.decode()
    client.post(f"/settings/rooms/{sala.pk}/reactivate/")
    sala.refresh_from_db()
    assert sala.is_active is True


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["bob", "paula"])
def test_receptionist_and_professional_only_read_the_room_pages(persona, request, sala) -> None:
    client = login(request.getfixturevalue(persona))
    content = client.get("/settings/rooms/").content.decode()
    assert "Sala 1" in content
    assert "New room" not in content
    assert client.get("/settings/rooms/new/").status_code == 403
    assert client.post("/settings/rooms/new/", {"name": "X"}).status_code == 403
    assert client.get(f"/settings/rooms/{sala.pk}/").status_code == 403
    assert client.post(f"/settings/rooms/{sala.pk}/deactivate/").status_code == 403
    sala.refresh_from_db()
    assert sala.is_active is True


@pytest.mark.django_db
def test_room_pages_of_another_organization_are_404(alice, beta_room) -> None:
    client = login(alice)
    for response in (
        client.get(f"/settings/rooms/{beta_room.pk}/"),
        client.post(f"/settings/rooms/{beta_room.pk}/", {"name": "Hacked"}),
        client.post(f"/settings/rooms/{beta_room.pk}/deactivate/"),
        client.post(f"/settings/rooms/{beta_room.pk}/reactivate/"),
        client.get("/settings/rooms/999999/"),
    ):
        assert response.status_code == 404
        assert b"Beta" not in response.content
    beta_room.refresh_from_db()
    assert (beta_room.name, beta_room.is_active) == ("Beta Secret Room", True)
