"""The OpenAPI schema and its documentation page, served without any external CDN."""

import re

import pytest
import yaml
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

API_PATHS = {
    "/api/v1/events/",
    "/api/v1/auth/token/",
    "/api/v1/tracks/{track_id}/stats/",
    "/api/v1/artists/{slug}/stats/",
}


def test_schema_is_served_as_an_openapi_document():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Mvsic API"
    assert set(schema["paths"]) >= API_PATHS
    events = schema["paths"]["/api/v1/events/"]["post"]
    assert {"202", "400", "413", "415"} <= set(events["responses"])


def test_schema_is_also_served_as_json():
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/events/" in response.json()["paths"]


def test_generated_schema_is_valid_openapi():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)  # raises on an invalid document
    assert set(schema["paths"]) >= API_PATHS


def test_docs_render_from_local_static_files_only():
    client = Client()
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "//fonts."):
        assert cdn not in html
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset
