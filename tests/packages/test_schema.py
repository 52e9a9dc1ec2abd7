from __future__ import annotations

import pytest

from tests.conftest import api_client


@pytest.mark.django_db
def test_openapi_schema_documents_the_catalog_endpoints(alice) -> None:
    schema = api_client(alice).get("/api/v1/schema/?format=json").json()
    assert {
        "/api/v1/services/",
        "/api/v1/services/{id}/",
        "/api/v1/package-templates/",
        "/api/v1/package-templates/{id}/",
        "/api/v1/package-templates/{id}/own-items/",
    } <= set(schema["paths"])
    filters = {p["name"] for p in schema["paths"]["/api/v1/package-templates/"]["get"]["parameters"]}
    assert {"name", "status", "shared", "page", "page_size"} <= filters
    components = schema["components"]["schemas"]
    assert components["TemplateItem"]["properties"]["service"]["type"] == "integer"
    assert set(components["PackageTemplate"]["properties"]) >= {
        "id",
        "name",
        "items",
        "sessions",
        "price",
        "renewal",
        "posting",
        "validity_days",
        "limits",
        "is_active",
        "is_shared",
    }
    assert set(components["Service"]["properties"]) >= {
        "id",
        "name",
        "code",
        "price",
        "duration_minutes",
        "is_active",
        "is_shared",
        "clinic",
    }
