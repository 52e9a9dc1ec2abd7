"""Organization B's patients never show to organization A, through any door."""

from __future__ import annotations

import pytest

from tests.conftest import api_client, login


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/patients/{id}/"),
        ("get", "/patients/{id}/edit/"),
        ("post", "/patients/{id}/edit/"),
        ("get", "/patients/{id}/anamnesis/"),
        ("post", "/patients/{id}/archive/"),
        ("post", "/patients/{id}/reactivate/"),
        ("post", "/patients/{id}/review/"),
    ],
)
def test_pages_answer_404_for_another_organizations_patient(alice, foreign_patient, method, path) -> None:
    response = getattr(login(alice), method)(path.format(id=foreign_patient.pk))
    assert response.status_code == 404
    assert b"Beatriz" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/patients/{id}/"),
        ("patch", "/api/v1/patients/{id}/"),
        ("put", "/api/v1/patients/{id}/"),
        ("delete", "/api/v1/patients/{id}/"),
        ("get", "/api/v1/patients/{id}/history/"),
        ("get", "/api/v1/patients/{id}/access-log/"),
    ],
)
def test_api_answers_404_for_another_organizations_patient(alice, foreign_patient, method, path) -> None:
    response = getattr(api_client(alice), method)(path.format(id=foreign_patient.pk), {"full_name": "x"})
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}
    foreign_patient.refresh_from_db()
    assert (foreign_patient.full_name, foreign_patient.is_active) == ("Beatriz Estrangeira", True)


@pytest.mark.django_db
def test_lists_and_searches_never_show_another_organization(alice, joao, foreign_patient) -> None:
    for params in [{}, {"status": "all", "clinic": "all"}, {"q": "Beatriz"}, {"q": "99988877766"}]:
        content = login(alice).get("/patients/", params).content.decode()
        assert "Estrangeira" not in content
        assert f"/patients/{foreign_patient.pk}/" not in content
    body = api_client(alice).get("/api/v1/patients/", {"search": "Beatriz"}).json()
    assert body["count"] == 0
    body = api_client(alice).get("/api/v1/patients/").json()
    assert [p["full_name"] for p in body["results"]] == ["João Conceição"]


@pytest.mark.django_db
def test_another_organizations_link_is_not_reachable_through_settings(alice, charlie) -> None:
    login(charlie).post("/patients/settings/self-registration/", {"action": "generate"})
    content = login(alice).get("/patients/settings/self-registration/").content.decode()
    assert "/register/" not in content
