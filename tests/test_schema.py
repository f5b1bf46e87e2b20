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
    assert {"202", "400", "401", "403", "413", "415", "429"} <= set(events["responses"])


def test_the_schema_says_what_the_api_does():
    """Each mismatch an API client found by fuzzing the schema: now in the schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    body = paths["/api/v1/events/"]["post"]["requestBody"]["content"]["application/json"]
    one, many = body["schema"]["oneOf"]
    assert (many["minItems"], many["maxItems"]) == (1, 500)  # an empty array is a 400
    for stats in ("/api/v1/tracks/{track_id}/stats/", "/api/v1/artists/{slug}/stats/"):
        assert {"200", "401", "403", "404"} <= set(paths[stats]["get"]["responses"])
    assert {"200", "400", "401", "429"} <= set(paths["/api/v1/auth/token/"]["post"]["responses"])
    event = schema["components"]["schemas"]["Event"]["properties"]
    assert not any(field.get("nullable") for field in event.values())  # null is a 400
    # A follow names an artist instead of a track.
    assert "artist" in event and "follow" in str(event["artist"]["description"])
    required = schema["components"]["schemas"]["Event"]["required"]
    assert "track" not in required and "artist" not in required


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
