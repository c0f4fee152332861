"""The OpenAPI schema and the browsable docs: served by us, with no asset from a CDN."""

import re

import pytest
from django.test import Client

from tests.mailing_helpers import URLS

pytestmark = [pytest.mark.django_db, URLS]


def test_it_serves_the_openapi_schema_with_every_endpoint_and_bearer_auth():
    response = Client().get("/api/schema/", headers={"Accept": "application/json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key created in the admin (Mailing system › API keys), shown once at creation.",
    }
    assert sorted(schema["paths"]) == [
        "/api/v1/interests/",
        "/api/v1/members/lookup/",
        "/api/v1/members/{imis_id}/",
        "/api/v1/members/{imis_id}/preferences/",
        "/api/v1/saved-target-groups/",
        "/api/v1/saved-target-groups/{id}/",
        "/api/v1/saved-target-groups/{id}/export/",
        "/api/v1/saved-target-groups/{id}/members/",
        "/api/v1/target-groups/",
        "/api/v1/target-groups/combined/",
        "/api/v1/target-groups/combined/export/",
        "/api/v1/target-groups/combined/members/",
        "/api/v1/target-groups/{id}/",
        "/api/v1/target-groups/{id}/export/",
        "/api/v1/target-groups/{id}/members/",
    ]


@pytest.mark.parametrize("url", ["/api/docs/"])
def test_it_serves_the_docs_from_our_own_static_files(url):
    page = Client().get(url).content.decode()

    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("drf_spectacular_sidecar" in source for source in sources)
    assert not [source for source in sources if source.startswith(("http:", "https:", "//"))]
