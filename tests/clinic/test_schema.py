from __future__ import annotations

import pytest

from tests.conftest import api_client, login


@pytest.mark.django_db
def test_openapi_schema_lists_the_endpoints(alice) -> None:
    response = api_client(alice).get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/auth/token/", "/api/v1/clinics/", "/api/v1/clinics/{id}/"} <= set(paths)
    assert paths["/api/v1/clinics/"]["get"]["parameters"][0]["name"] == "page"


@pytest.mark.django_db
def test_interactive_docs_load_their_assets_locally(alice) -> None:
    content = login(alice).get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in content
    assert "cdn" not in content.lower()


@pytest.mark.django_db
def test_schema_requires_authentication() -> None:
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/schema/").status_code == 401
