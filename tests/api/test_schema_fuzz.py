"""Schemathesis over the OpenAPI schema, in process, as an administrator: whatever it sends,
the API never answers 5xx and every answer matches the schema (status, content type, body)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
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
def _connection_kept_across_requests():
    # Django's test client stops the request signals from closing the database connection; the
    # WSGI transport schemathesis uses does not, and on PostgreSQL that would drop the test's
    # transaction after the first request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, _connection_kept_across_requests):
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


# One test per operation, parametrised here rather than by ``schema.parametrize()``: under
# pytest-xdist the latter collects a single item that exercises one operation only.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.mark.xdist_group("fuzz")
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_api_answers_every_generated_request_as_its_schema_says(operation, fuzz_world):
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @SETTINGS
    @given(case=cases)
    def answers_as_documented(case):
        _call_and_validate(case, fuzz_world)

    answers_as_documented()


def _call_and_validate(case, fuzz_world) -> None:
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
