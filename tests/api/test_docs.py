"""The OpenAPI schema and the Swagger UI, which must run under our Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3_1_and_describes_problem_details():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert "ProblemDetails" in schema["components"]["schemas"]
    patch = schema["paths"]["/api/v1/locations/{id}/"]["patch"]
    assert "application/problem+json" in patch["responses"]["409"]["content"]
    assert any(parameter["name"] == "If-Match" for parameter in patch["parameters"])


def test_swagger_ui_loads_every_script_from_our_own_origin():
    client = Client()
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all(body.strip() == "" for _, body in scripts), "inline script"
    sources = [re.search(r'src="([^"]+)"', attributes).group(1) for attributes, _ in scripts]
    assert all(source.startswith("/") and not source.startswith("//") for source in sources), sources
    assert "<style" not in html and " style=" not in html
    for source in sources:
        script = client.get(source)
        assert script.status_code == 200, source
        assert "javascript" in script["Content-Type"], source
