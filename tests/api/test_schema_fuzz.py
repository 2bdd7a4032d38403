"""Schemathesis over the OpenAPI schema, in process, as an administrator: whatever it sends,
the API never answers 5xx and every answer matches the schema (status, content type, body)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from opsdesk.accounts.choices import Role
from opsdesk.accounts.services import token_create
from tests.accounts.factories import (
    AbsenceFactory,
    AgentSkillFactory,
    LocationFactory,
    OrganizationFactory,
    ShiftFactory,
    SkillFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Bodies are validated strictly (unknown fields, read-only fields, wrong JSON types: 400). Query
# filters keep django-filter's convention that an empty value means "no filter", shared with the UI.
BODY_CHECKS = [*CHECKS, negative_data_rejection]


def _served_schema() -> dict:
    """The schema exactly as /api/schema/ serves it (built without a request or a database)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


schema = schemathesis.openapi.from_dict(_served_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def fuzz_world(db):
    """An administrator with a token, and a few records of every kind for paths to point at."""
    cache.clear()  # throttling counters of earlier tests
    admin = UserFactory(role=Role.ADMIN)
    _, raw = token_create(actor=admin, user=admin)
    agent = UserFactory(role=Role.AGENT)
    lead = UserFactory(role=Role.TEAM_LEAD)
    team = TeamFactory(lead=lead)
    TeamMembershipFactory(team=team, user=agent)
    other = UserFactory()
    existing = {
        "users": [other.pk, agent.pk, lead.pk],
        "organizations": [OrganizationFactory().pk, other.organization_id],
        "locations": [LocationFactory().pk],
        "teams": [team.pk],
        "skills": [SkillFactory().pk],
        "agent-skills": [AgentSkillFactory(user=agent).pk],
        "shifts": [ShiftFactory(user=agent).pk],
        "absences": [AbsenceFactory(user=agent).pk],
    }
    return {"token": raw, "existing": existing}


@pytest.mark.xdist_group("fuzz")
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_answers_every_generated_request_as_its_schema_says(case, fuzz_world):
    # Point non-negative ids at existing records, so updates and deletes run their real code
    # paths (negative and malformed ids still probe the 404s). The administrator's own record
    # stays out of reach: deactivating it would end the run.
    collection = case.operation.path.removeprefix("/api/v1/").split("/")[0]
    for name, value in list((case.path_parameters or {}).items()):
        pool = fuzz_world["existing"].get("users" if name == "user_id" else collection)
        if pool and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            case.path_parameters[name] = pool[value % len(pool)]
    headers = {"Authorization": f"Bearer {fuzz_world['token']}"}
    if case.method.upper() in ("PUT", "PATCH") and not (case.headers or {}).get("If-Match"):
        headers["If-Match"] = "*"
    checks = BODY_CHECKS if case.method.upper() in ("POST", "PUT", "PATCH") else CHECKS
    case.call_and_validate(headers=headers, checks=checks)
