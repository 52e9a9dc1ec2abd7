"""Professionals: the API, the Settings pages, roles and the tenant boundary."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.demo import CENTRAL, DEMO_ORGANIZATION, SECOND
from clinic.models import Professional, Role, Room
from clinic.resource_views import weekly_hours_summary
from tests.conftest import api_client, login, make_member
from tests.factories import MembershipFactory, ProfessionalFactory, RoomFactory, UserFactory, WorkingHoursFactory

FORBIDDEN = {"code": "permission_denied", "detail": "Your role does not allow this action.", "fields": {}}
NOT_FOUND = {"code": "not_found", "detail": "Not found.", "fields": {}}
OFFICE_WEEK = [
    {"weekday": day, "start": start, "end": end}
    for day in range(5)
    for start, end in (("08:00", "12:00"), ("13:00", "18:00"))
]


def en_dash(text: str) -> str:
    """The pages and messages write time spans with an en dash; tests type a hyphen."""
    return text.replace("-", "\N{EN DASH}")


def _with_hours(clinic, name: str, *spans: tuple[int, str, str], **kwargs) -> Professional:
    professional = ProfessionalFactory(clinic=clinic, name=name, **kwargs)
    for weekday, start, end in spans:
        WorkingHoursFactory(
            professional=professional,
            weekday=weekday,
            starts_at=dt.time.fromisoformat(start),
            ends_at=dt.time.fromisoformat(end),
        )
    return professional


def _hours(professional: Professional) -> list[str]:
    with scopes_disabled():
        return [str(h) for h in professional.working_hours.order_by("weekday", "starts_at")]


def _validation(fields: dict) -> dict:
    return {"code": "validation_error", "detail": "Some fields are not valid.", "fields": fields}


@pytest.fixture
def marcos(tenant_a, paula) -> Professional:
    return _with_hours(
        tenant_a.central,
        "Marcos Pereira",
        (0, "08:00", "12:00"),
        (0, "13:00", "18:00"),
        (5, "08:00", "12:00"),
        specialty="Fisioterapeuta",
        color="#0f766e",
        user=paula,
    )


@pytest.fixture
def beta_professional(tenant_b, charlie) -> Professional:
    return _with_hours(tenant_b.central, "Beta Secret Therapist", (0, "08:00", "12:00"), specialty="Beta specialty")


@pytest.fixture
def manager(tenant_a):
    return make_member(tenant_a, "maria", Role.MANAGER)


# API


@pytest.mark.django_db
def test_api_professional_fields(alice, marcos, paula, tenant_a) -> None:
    body = api_client(alice).get(f"/api/v1/professionals/{marcos.pk}/").json()
    assert body == {
        "id": marcos.pk,
        "name": "Marcos Pereira",
        "specialty": "Fisioterapeuta",
        "color": "#0f766e",
        "clinic": tenant_a.central.pk,
        "user": paula.pk,
        "is_active": True,
        "working_hours": [
            {"weekday": 0, "start": "08:00", "end": "12:00"},
            {"weekday": 0, "start": "13:00", "end": "18:00"},
            {"weekday": 5, "start": "08:00", "end": "12:00"},
        ],
    }


@pytest.mark.django_db
def test_api_list_shows_the_current_clinic_unless_told_otherwise(alice, tenant_a) -> None:
    ProfessionalFactory(clinic=tenant_a.central, name="Ana Central")
    ProfessionalFactory(clinic=tenant_a.central, name="Bruno Central", is_active=False)
    ProfessionalFactory(clinic=tenant_a.branch, name="Carla Branch")
    client = api_client(alice)

    def names(path: str, **headers: str) -> list[str]:
        response = client.get(path, **headers)
        assert response.status_code == 200
        return [p["name"] for p in response.json()["results"]]

    assert names("/api/v1/professionals/") == ["Ana Central", "Bruno Central"]
    assert names("/api/v1/professionals/", HTTP_X_CLINIC=str(tenant_a.branch.pk)) == ["Carla Branch"]
    assert names(f"/api/v1/professionals/?clinic={tenant_a.branch.pk}") == ["Carla Branch"]
    assert names("/api/v1/professionals/?is_active=true") == ["Ana Central"]
    assert names("/api/v1/professionals/?is_active=false") == ["Bruno Central"]
    # A professional of a sibling clinic is reachable by id.
    with scopes_disabled():
        carla = Professional.objects.get(name="Carla Branch")
    assert client.get(f"/api/v1/professionals/{carla.pk}/").json()["name"] == "Carla Branch"


@pytest.mark.django_db
def test_owner_creates_a_professional_with_working_hours(alice, paula, tenant_a) -> None:
    response = api_client(alice).post(
        "/api/v1/professionals/",
        {
            "name": " Renata Costa ",
            "specialty": "Fisioterapeuta, Pilates",
            "color": "#7C3AED",
            "user": paula.pk,
            "working_hours": [*OFFICE_WEEK, {"weekday": 5, "start": "08:00", "end": "12:00"}],
        },
    )
    assert response.status_code == 201
    body = response.json()
    with scopes_disabled():
        renata = Professional.objects.get(pk=body["id"])
    assert body == {
        "id": renata.pk,
        "name": "Renata Costa",
        "specialty": "Fisioterapeuta, Pilates",
        "color": "#7c3aed",
        "clinic": tenant_a.central.pk,
        "user": paula.pk,
        "is_active": True,
        "working_hours": [*OFFICE_WEEK, {"weekday": 5, "start": "08:00", "end": "12:00"}],
    }
    assert (renata.organization_id, renata.clinic_id) == (tenant_a.organization.pk, tenant_a.central.pk)
    assert len(_hours(renata)) == 11
    with scopes_disabled():
        assert [(h.history_type, h.history_user) for h in renata.history.all()] == [("+", alice)]


@pytest.mark.django_db
def test_api_creates_in_the_clinic_of_the_x_clinic_header(alice, tenant_a) -> None:
    response = api_client(alice).post(
        "/api/v1/professionals/", {"name": "Lucas Martins"}, HTTP_X_CLINIC=str(tenant_a.branch.pk)
    )
    assert response.status_code == 201
    assert (response.json()["clinic"], response.json()["working_hours"], response.json()["color"]) == (
        tenant_a.branch.pk,
        [],
        "#0f766e",
    )


@pytest.mark.django_db
def test_api_replaces_the_working_hours_and_keeps_them_when_not_sent(alice, marcos) -> None:
    client = api_client(alice)
    response = client.patch(
        f"/api/v1/professionals/{marcos.pk}/",
        {"working_hours": [{"weekday": 2, "start": "09:00", "end": "17:00"}]},
    )
    assert response.status_code == 200
    assert response.json()["working_hours"] == [{"weekday": 2, "start": "09:00", "end": "17:00"}]
    assert _hours(marcos) == [en_dash("Wednesday 09:00-17:00")]

    response = client.patch(f"/api/v1/professionals/{marcos.pk}/", {"specialty": "RPG"})
    assert response.status_code == 200
    assert (response.json()["specialty"], response.json()["working_hours"]) == (
        "RPG",
        [{"weekday": 2, "start": "09:00", "end": "17:00"}],
    )

    response = client.put(
        f"/api/v1/professionals/{marcos.pk}/", {"name": "Marcos P.", "working_hours": []}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["working_hours"]) == ("Marcos P.", [])
    assert _hours(marcos) == []


@pytest.mark.django_db
def test_api_deactivates_and_reactivates_with_patch(alice, marcos) -> None:
    client = api_client(alice)
    response = client.patch(f"/api/v1/professionals/{marcos.pk}/", {"is_active": False})
    assert (response.status_code, response.json()["is_active"]) == (200, False)
    marcos.refresh_from_db()
    assert marcos.is_active is False
    assert _hours(marcos) == [
        en_dash("Monday 08:00-12:00"),
        en_dash("Monday 13:00-18:00"),
        en_dash("Saturday 08:00-12:00"),
    ]
    response = client.patch(f"/api/v1/professionals/{marcos.pk}/", {"is_active": True})
    assert (response.status_code, response.json()["is_active"]) == (200, True)
    assert client.delete(f"/api/v1/professionals/{marcos.pk}/").json() == {
        "code": "method_not_allowed",
        "detail": 'Method "DELETE" not allowed.',
        "fields": {},
    }


@pytest.mark.django_db
def test_api_overlapping_hours_are_a_400_naming_the_weekday(alice, marcos) -> None:
    response = api_client(alice).patch(
        f"/api/v1/professionals/{marcos.pk}/",
        {
            "working_hours": [
                {"weekday": 1, "start": "08:00", "end": "12:00"},
                {"weekday": 1, "start": "11:30", "end": "14:00"},
                {"weekday": 3, "start": "18:00", "end": "08:00"},
            ]
        },
    )
    assert response.status_code == 400
    assert response.json() == _validation(
        {
            "working_hours": [
                "Thursday: the start (18:00) must be before the end (08:00).",
                en_dash("Tuesday: 08:00-12:00 overlaps 11:30-14:00."),
            ]
        }
    )
    assert _hours(marcos) == [
        en_dash("Monday 08:00-12:00"),
        en_dash("Monday 13:00-18:00"),
        en_dash("Saturday 08:00-12:00"),
    ]


@pytest.mark.django_db
def test_api_field_validation_errors(alice, tenant_a) -> None:
    client = api_client(alice)
    response = client.post("/api/v1/professionals/", {"name": "X", "color": "teal"})
    assert (response.status_code, response.json()) == (400, _validation({"color": ["Use a colour like #0f766e."]}))
    response = client.post("/api/v1/professionals/", {"name": "  "})
    assert (response.status_code, response.json()) == (400, _validation({"name": ["This field may not be blank."]}))
    response = client.post(
        "/api/v1/professionals/", {"name": "X", "working_hours": [{"weekday": 7, "start": "8h", "end": "12:00"}]}
    )
    assert response.status_code == 400
    assert response.json() == _validation(
        {
            # DRF keys the errors of a list by the index of the failing item.
            "working_hours": {
                "0": {
                    "weekday": ['"7" is not a valid choice.'],
                    "start": ["Time has wrong format. Use one of these formats instead: hh:mm, hh:mm:ss."],
                }
            }
        }
    )
    with scopes_disabled():
        assert not Professional.objects.filter(organization=tenant_a.organization).exists()


@pytest.mark.django_db
def test_api_linked_user_must_work_in_the_clinic(alice, paula, tenant_a) -> None:
    client = api_client(alice)
    only_in_branch = make_member(tenant_a, "otto", Role.PROFESSIONAL, tenant_a.branch)
    without_membership = UserFactory(username="nobody", organization=tenant_a.organization)
    for user in (only_in_branch, without_membership):
        response = client.post("/api/v1/professionals/", {"name": "X", "user": user.pk})
        assert (response.status_code, response.json()) == (
            400,
            _validation({"user": ["Choose a user who works in this clinic."]}),
        )
    # The owner may be linked too: any membership of the clinic counts.
    assert client.post("/api/v1/professionals/", {"name": "Alice", "user": alice.pk}).status_code == 201
    assert client.post("/api/v1/professionals/", {"name": "Paula", "user": paula.pk}).status_code == 201
    response = client.post("/api/v1/professionals/", {"name": "Paula again", "user": paula.pk})
    assert (response.status_code, response.json()) == (
        400,
        _validation({"user": ["This user already has a professional profile in this clinic."]}),
    )
    # The same user may have a profile in each clinic she works in.
    response = client.post("/api/v1/professionals/", {"name": "Alice", "user": alice.pk, "clinic": tenant_a.branch.pk})
    assert response.status_code == 201


@pytest.mark.django_db
def test_api_moving_a_professional_rechecks_the_linked_user(alice, marcos, tenant_a) -> None:
    response = api_client(alice).patch(f"/api/v1/professionals/{marcos.pk}/", {"clinic": tenant_a.branch.pk})
    assert (response.status_code, response.json()) == (
        400,
        _validation({"user": ["Choose a user who works in this clinic."]}),
    )
    response = api_client(alice).patch(
        f"/api/v1/professionals/{marcos.pk}/", {"clinic": tenant_a.branch.pk, "user": None}
    )
    assert (response.status_code, response.json()["clinic"], response.json()["user"]) == (
        200,
        tenant_a.branch.pk,
        None,
    )


@pytest.mark.django_db
def test_manager_writes_professionals(manager, tenant_a) -> None:
    client = api_client(manager)
    response = client.post("/api/v1/professionals/", {"name": "Fernando Dias", "working_hours": OFFICE_WEEK[:2]})
    assert response.status_code == 201
    response = client.patch(f"/api/v1/professionals/{response.json()['id']}/", {"specialty": "Acupunturista"})
    assert (response.status_code, response.json()["specialty"]) == (200, "Acupunturista")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["bob", "paula"])
def test_receptionist_and_professional_read_but_cannot_write_professionals(persona, request, marcos) -> None:
    client = api_client(request.getfixturevalue(persona))
    assert client.get("/api/v1/professionals/").json()["count"] == 1
    assert client.get(f"/api/v1/professionals/{marcos.pk}/").status_code == 200
    for response in (
        client.post("/api/v1/professionals/", {"name": "X"}),
        client.patch(f"/api/v1/professionals/{marcos.pk}/", {"name": "X"}),
        client.put(f"/api/v1/professionals/{marcos.pk}/", {"name": "X"}),
        client.patch(f"/api/v1/professionals/{marcos.pk}/", {"is_active": False}),
    ):
        assert (response.status_code, response.json()) == (403, FORBIDDEN)
    marcos.refresh_from_db()
    assert (marcos.name, marcos.is_active) == ("Marcos Pereira", True)


@pytest.mark.django_db
def test_api_write_needs_the_permission_in_the_professional_clinic(tenant_a, marcos) -> None:
    # Manager of the branch, receptionist at the central clinic.
    user = make_member(tenant_a, "mixed", Role.MANAGER, tenant_a.branch)
    MembershipFactory(user=user, clinic=tenant_a.central, role=Role.RECEPTIONIST)
    client = api_client(user)
    branch = {"HTTP_X_CLINIC": str(tenant_a.branch.pk)}
    response = client.patch(f"/api/v1/professionals/{marcos.pk}/", {"name": "X"}, **branch)
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    response = client.post("/api/v1/professionals/", {"name": "X", "clinic": tenant_a.central.pk}, **branch)
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert client.post("/api/v1/professionals/", {"name": "In the branch"}, **branch).status_code == 201


@pytest.mark.django_db
def test_api_professional_of_another_organization_is_404(alice, beta_professional) -> None:
    client = api_client(alice)
    url = f"/api/v1/professionals/{beta_professional.pk}/"
    for response in (
        client.get(url),
        client.patch(url, {"name": "Hacked"}),
        client.put(url, {"name": "Hacked"}),
        client.patch(url, {"is_active": False}),
        client.get("/api/v1/professionals/999999/"),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    beta_professional.refresh_from_db()
    assert (beta_professional.name, beta_professional.is_active) == ("Beta Secret Therapist", True)


@pytest.mark.django_db
def test_api_foreign_ids_are_400_in_the_body_and_match_nothing_in_a_filter(alice, charlie, tenant_a, tenant_b) -> None:
    client = api_client(alice)
    response = client.post("/api/v1/professionals/", {"name": "X", "user": charlie.pk})
    assert (response.status_code, response.json()) == (
        400,
        _validation({"user": [f'Invalid pk "{charlie.pk}" - object does not exist.']}),
    )
    response = client.post("/api/v1/professionals/", {"name": "X", "clinic": tenant_b.central.pk})
    assert (response.status_code, response.json()) == (
        400,
        _validation({"clinic": [f'Invalid pk "{tenant_b.central.pk}" - object does not exist.']}),
    )
    # A filter by an id the organization does not have matches nothing, like a missing id.
    response = client.get(f"/api/v1/professionals/?clinic={tenant_b.central.pk}")
    assert (response.status_code, response.json()["results"]) == (200, [])
    with scopes_disabled():
        assert not Professional.objects.filter(name="X").exists()


@pytest.mark.django_db
def test_api_list_never_shows_another_organization(alice, charlie, marcos, beta_professional) -> None:
    body = api_client(alice).get("/api/v1/professionals/").content.decode()
    assert "Marcos Pereira" in body
    assert "Beta" not in body
    body = api_client(charlie).get("/api/v1/professionals/").json()
    assert [p["name"] for p in body["results"]] == ["Beta Secret Therapist"]


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def _many(clinic, count: int) -> None:
    for n in range(count):
        _with_hours(clinic, f"Extra {n:02}", (0, "08:00", "12:00"), (0, "13:00", "18:00"), (5, "08:00", "12:00"))


@pytest.mark.django_db
def test_professional_lists_query_count_does_not_grow(alice, tenant_a, beta_professional) -> None:
    api, web = api_client(alice), login(alice)
    _many(tenant_a.central, 1)
    api_one, web_one = _queries(api, "/api/v1/professionals/"), _queries(web, "/settings/professionals/")
    _many(tenant_a.central, 29)
    assert api.get("/api/v1/professionals/").json()["count"] == 30
    assert _queries(api, "/api/v1/professionals/") == api_one
    assert _queries(web, "/settings/professionals/") == web_one


# Pages


def _form_data(name: str, rows: list[tuple], *, initial: int = 0, blank: int = 1, **fields: str) -> dict[str, str]:
    data = {
        "name": name,
        "specialty": fields.pop("specialty", ""),
        "color": fields.pop("color", "#0f766e"),
        "user": fields.pop("user", ""),
        "hours-TOTAL_FORMS": str(len(rows) + blank),
        "hours-INITIAL_FORMS": str(initial),
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "50",
    }
    for index, (weekday, start, end, *delete) in enumerate(rows):
        data |= {
            f"hours-{index}-weekday": str(weekday),
            f"hours-{index}-starts_at": start,
            f"hours-{index}-ends_at": end,
        }
        if delete:
            data[f"hours-{index}-DELETE"] = "on"
    for index in range(len(rows), len(rows) + blank):
        data |= {f"hours-{index}-weekday": "", f"hours-{index}-starts_at": "", f"hours-{index}-ends_at": ""}
    return data


@pytest.mark.django_db
def test_professional_list_page_shows_the_current_clinic(alice, marcos, tenant_a, beta_professional) -> None:
    ProfessionalFactory(clinic=tenant_a.central, name="Zélia Inactive", is_active=False)
    ProfessionalFactory(clinic=tenant_a.branch, name="Branch Person")
    client = login(alice)
    response = client.get("/settings/professionals/")
    content = response.content.decode()
    assert [professional.name for professional, _hours in response.context["rows"]] == ["Marcos Pereira"]
    assert response.context["rows"][0][1] == [en_dash("Mon 08:00-12:00, 13:00-18:00"), en_dash("Sat 08:00-12:00")]
    assert "background-color: #0f766e;" in content
    assert "Fisioterapeuta" in content
    assert "Login: paula" in content
    assert "New professional" in content
    assert "Beta" not in content
    assert "Branch Person" not in content
    inactive = client.get("/settings/professionals/?status=inactive")
    assert [p.name for p, _h in inactive.context["rows"]] == ["Zélia Inactive"]
    assert inactive.context["counts"] == {"active": 1, "inactive": 1, "all": 2}
    everyone = client.get("/settings/professionals/?status=all")
    assert [p.name for p, _h in everyone.context["rows"]] == ["Marcos Pereira", "Zélia Inactive"]
    client.post("/clinic/switch/", {"clinic": tenant_a.branch.pk})
    branch = client.get("/settings/professionals/")
    assert [p.name for p, _h in branch.context["rows"]] == ["Branch Person"]


@pytest.mark.django_db
def test_owner_creates_a_professional_in_settings(alice, paula, tenant_a) -> None:
    client = login(alice)
    page = client.get("/settings/professionals/new/").content.decode()
    assert 'name="hours-TOTAL_FORMS"' in page
    assert "paula" in page
    response = client.post(
        "/settings/professionals/new/",
        _form_data(
            "Camila Rocha",
            [(0, "08:00", "12:00"), (0, "13:00", "18:00"), (2, "08:00", "12:00")],
            specialty="Psicóloga",
            color="#DB2777",
            user=str(paula.pk),
        ),
    )
    assert (response.status_code, response["Location"]) == (302, "/settings/professionals/")
    with scopes_disabled():
        camila = Professional.objects.get(name="Camila Rocha")
    assert (camila.clinic, camila.specialty, camila.color, camila.user) == (
        tenant_a.central,
        "Psicóloga",
        "#db2777",
        paula,
    )
    assert _hours(camila) == [
        en_dash("Monday 08:00-12:00"),
        en_dash("Monday 13:00-18:00"),
        en_dash("Wednesday 08:00-12:00"),
    ]
    assert "Professional “Camila Rocha” created." in client.get("/settings/professionals/").content.decode()


@pytest.mark.django_db
def test_owner_edits_the_working_hours_in_settings(alice, marcos) -> None:
    client = login(alice)
    page = client.get(f"/settings/professionals/{marcos.pk}/")
    assert page.status_code == 200
    assert page.context["hours"].initial_form_count() == 3
    # Keep Monday morning, remove Monday afternoon, change Saturday, add Friday.
    response = client.post(
        f"/settings/professionals/{marcos.pk}/",
        _form_data(
            "Marcos Pereira",
            [(0, "08:00", "12:00"), (0, "13:00", "18:00", "delete"), (5, "09:00", "12:00"), (4, "14:00", "19:00")],
            initial=3,
            specialty="Fisioterapeuta",
            user=str(marcos.user_id),
        ),
    )
    assert response.status_code == 302
    assert _hours(marcos) == [
        en_dash("Monday 08:00-12:00"),
        en_dash("Friday 14:00-19:00"),
        en_dash("Saturday 09:00-12:00"),
    ]


@pytest.mark.django_db
def test_professional_form_shows_errors(alice, marcos) -> None:
    client = login(alice)
    response = client.post(
        f"/settings/professionals/{marcos.pk}/",
        _form_data("Marcos Pereira", [(1, "08:00", "12:00"), (1, "10:00", "11:00")]),
    )
    assert response.status_code == 200
    assert response.context["hours_errors"] == [en_dash("Tuesday: 08:00-12:00 overlaps 10:00-11:00.")]
    assert en_dash("Tuesday: 08:00-12:00 overlaps 10:00-11:00.") in response.content.decode()
    # A blank name and a half-filled row: both reported at once.
    response = client.post("/settings/professionals/new/", _form_data("", [(3, "08:00", "")]))
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert response.context["hours"].errors == [{"ends_at": ["This field is required."]}, {}]
    # A service error on a field lands on that field.
    response = client.post("/settings/professionals/new/", _form_data("X", [], color="#12345z"))
    assert response.context["form"].errors == {"color": ["Use a colour like #0f766e."]}
    assert _hours(marcos) == [
        en_dash("Monday 08:00-12:00"),
        en_dash("Monday 13:00-18:00"),
        en_dash("Saturday 08:00-12:00"),
    ]


@pytest.mark.django_db
def test_owner_deactivates_and_reactivates_a_professional(alice, marcos) -> None:
    client = login(alice)
    response = client.post(
        f"/settings/professionals/{marcos.pk}/deactivate/", {"next": "/settings/professionals/?status=all"}
    )
    assert (response.status_code, response["Location"]) == (302, "/settings/professionals/?status=all")
    marcos.refresh_from_db()
    assert marcos.is_active is False
    assert "“Marcos Pereira” deactivated: no new bookings." in client.get("/settings/professionals/").content.decode()
    assert client.get(f"/settings/professionals/{marcos.pk}/deactivate/").status_code == 405
    response = client.post(f"/settings/professionals/{marcos.pk}/reactivate/")
    assert (response.status_code, response["Location"]) == (302, "/settings/professionals/")
    marcos.refresh_from_db()
    assert marcos.is_active is True
    with scopes_disabled():
        assert [h.is_active for h in marcos.history.order_by("history_date")] == [True, False, True]


@pytest.mark.django_db
def test_add_interval_row_comes_from_htmx_with_the_new_total(alice) -> None:
    response = login(alice).get("/settings/professionals/hours-row/?hours-TOTAL_FORMS=3", HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="hours-3-weekday"' in content
    assert 'name="hours-3-DELETE"' in content
    assert 'name="hours-TOTAL_FORMS" value="4" id="id_hours-TOTAL_FORMS" hx-swap-oob="true"' in content


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["bob", "paula"])
def test_receptionist_and_professional_only_read_the_professional_pages(persona, request, marcos) -> None:
    client = login(request.getfixturevalue(persona))
    content = client.get("/settings/professionals/").content.decode()
    assert "Marcos Pereira" in content
    assert "New professional" not in content
    assert "Deactivate" not in content
    assert client.get("/settings/professionals/new/").status_code == 403
    assert client.post("/settings/professionals/new/", _form_data("X", [])).status_code == 403
    assert client.get(f"/settings/professionals/{marcos.pk}/").status_code == 403
    assert client.post(f"/settings/professionals/{marcos.pk}/deactivate/").status_code == 403
    assert client.get("/settings/professionals/hours-row/").status_code == 403
    marcos.refresh_from_db()
    assert marcos.is_active is True


@pytest.mark.django_db
def test_manager_edits_professionals_in_settings(manager, marcos) -> None:
    client = login(manager)
    assert "New professional" in client.get("/settings/professionals/").content.decode()
    response = client.post(f"/settings/professionals/{marcos.pk}/", _form_data("Marcos P.", [], initial=0))
    assert response.status_code == 302
    marcos.refresh_from_db()
    assert marcos.name == "Marcos P."


@pytest.mark.django_db
def test_professional_pages_of_another_organization_are_404(alice, beta_professional) -> None:
    client = login(alice)
    for response in (
        client.get(f"/settings/professionals/{beta_professional.pk}/"),
        client.post(f"/settings/professionals/{beta_professional.pk}/", _form_data("Hacked", [])),
        client.post(f"/settings/professionals/{beta_professional.pk}/deactivate/"),
        client.post(f"/settings/professionals/{beta_professional.pk}/reactivate/"),
        client.get("/settings/professionals/999999/"),
    ):
        assert response.status_code == 404
        assert b"Beta" not in response.content
    beta_professional.refresh_from_db()
    assert (beta_professional.name, beta_professional.is_active) == ("Beta Secret Therapist", True)
    assert "Beta" not in client.get("/settings/professionals/?status=all").content.decode()


# Demo and admin


@pytest.mark.django_db
def test_seed_demo_creates_professionals_and_rooms_once() -> None:
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    with scopes_disabled():
        professionals = {
            (p.clinic.name, p.name, p.specialty, p.user.username if p.user else None, p.color): _hours_summary(p)
            for p in Professional.objects.filter(organization__name=DEMO_ORGANIZATION).select_related("clinic", "user")
        }
        rooms = sorted(Room.objects.filter(organization__name=DEMO_ORGANIZATION).values_list("clinic__name", "name"))
    office = en_dash("Mon-Fri 08:00-12:00, 13:00-18:00")
    assert professionals == {
        (CENTRAL, "Marcos Pereira", "Fisioterapeuta", "physio", "#0f766e"): office + en_dash("; Sat 08:00-12:00"),
        (CENTRAL, "Renata Costa", "Fisioterapeuta, Pilates", None, "#7c3aed"): office + en_dash("; Sat 08:00-12:00"),
        (CENTRAL, "Fernando Dias", "Acupunturista", None, "#d97706"): en_dash(
            "Tue, Thu 08:00-12:00, 13:00-18:00; Sat 08:00-12:00"
        ),
        (SECOND, "Camila Rocha", "Psicóloga", "psych", "#db2777"): office,
        (SECOND, "Lucas Martins", "Fisioterapeuta RPG", None, "#2563eb"): office + en_dash("; Sat 08:00-12:00"),
    }
    assert rooms == [
        (CENTRAL, "Estúdio de Pilates"),
        (CENTRAL, "Sala 1"),
        (CENTRAL, "Sala 2"),
        (SECOND, "Consultório 1"),
        (SECOND, "Consultório 2"),
    ]


def _hours_summary(professional: Professional) -> str:
    return weekly_hours_summary(professional.working_hours.all())


@pytest.mark.django_db
def test_admin_shows_professionals_and_rooms_of_the_own_organization_read_only(
    alice, marcos, beta_professional, tenant_b
) -> None:
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client = login(alice)
    listing = client.get("/admin/clinic/professional/").content.decode()
    assert "Marcos Pereira" in listing
    assert "Beta" not in listing
    detail = client.get(f"/admin/clinic/professional/{marcos.pk}/change/")
    assert detail.status_code == 200
    assert "Save" not in detail.content.decode()
    assert client.get(f"/admin/clinic/professional/{marcos.pk}/history/").status_code == 200
    assert client.get(f"/admin/clinic/professional/{beta_professional.pk}/change/").status_code == 302
    beta_room = RoomFactory(clinic=tenant_b.central, name="Beta Room")
    RoomFactory(clinic=marcos.clinic, name="Sala 1")
    rooms = client.get("/admin/clinic/room/").content.decode()
    assert "Sala 1" in rooms
    assert "Beta" not in rooms
    assert client.get(f"/admin/clinic/room/{beta_room.pk}/change/").status_code == 302


@pytest.mark.django_db
def test_openapi_schema_lists_professionals_and_rooms_with_their_filters(alice) -> None:
    paths = api_client(alice).get("/api/v1/schema/?format=json").json()["paths"]
    for path in ("/api/v1/professionals/", "/api/v1/rooms/"):
        assert {p["name"] for p in paths[path]["get"]["parameters"]} == {"clinic", "is_active", "page", "page_size"}
        assert set(paths[path]) == {"get", "post"}
        assert set(paths[path.replace("/?", "/") + "{id}/"]) == {"get", "put", "patch"}
