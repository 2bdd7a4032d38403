"""The payload mapping on its own: path syntax, validation messages, extraction."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from opsdesk.webhooks.models import WebhookSource
from opsdesk.webhooks.payload_mapping import (
    MappingError,
    extract,
    field_map_errors,
    parse_path,
    resolve,
    value_map_errors,
)


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("$", []),
        ("$.alert.name", ["alert", "name"]),
        ("$.alerts[0].labels.severity", ["alerts", 0, "labels", "severity"]),
        ("$[2][0]", [2, 0]),
        ("$.a-b.c_d.3", ["a-b", "c_d", "3"]),
    ],
)
def test_paths_are_dotted_keys_and_list_indexes(path, steps):
    assert parse_path(path) == steps


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("alert.name", "must start with $"),
        ("$.alert..name", "character 8"),
        ("$.alerts[-1]", "[index]"),
        ("$.alerts[*]", "[index]"),
        ("$['a']", "[index]"),
        ("$." + "a." * 150, "at most 200 characters"),
        ("$" + ".a" * 21, "deeper than 20"),
        (3, "is a string"),
    ],
)
def test_a_bad_path_is_refused_with_a_message_that_says_what_to_write(path, words):
    with pytest.raises(MappingError, match=words.replace("[", r"\[").replace("$", r"\$")):
        parse_path(path)


def test_resolving_a_path_the_payload_lacks_gives_nothing():
    payload = {"alerts": [{"name": "x"}], "n": None}
    assert resolve(payload, parse_path("$.alerts[0].name")) == "x"
    for path in ("$.alerts[1].name", "$.alerts.name", "$.missing", "$.n.deeper", "$[0]"):
        assert resolve(payload, parse_path(path)) is None


def test_field_map_errors_name_each_problem():
    errors = field_map_errors({"titel": "$.x", "description": "x.y", "impact": "$.sev"})
    assert any("'titel' is not a field" in error for error in errors)
    assert any(error.startswith("description:") for error in errors)
    assert any("Map the title" in error for error in errors)
    assert field_map_errors(["$.x"]) == ['The field map is a JSON object such as {"title": "$.alert.name"}.']
    assert field_map_errors({"title": "$.alert.name"}) == []


def test_value_map_errors_name_each_problem():
    errors = value_map_errors(
        {
            "impact": {"critical": 0, "warning": True},
            "status": {"ok": "closed"},
            "title": {"a": "b"},
            "urgency": {"High": 1, "high": 1},
        }
    )
    assert sum("must map to 1 (high), 2 (medium) or 3 (low)" in error for error in errors) == 2
    assert any("must map to 'resolved' or 'open'" in error for error in errors)
    assert any("'title' has no value map" in error for error in errors)
    assert any("without case" in error for error in errors)


def test_extraction_applies_the_value_map_without_case():
    payload = {"sev": "CRITICAL", "state": "Resolved", "id": 42, "name": "  Disk  "}
    result = extract(
        payload,
        {
            "title": "$.name",
            "external_id": "$.id",
            "impact": "$.sev",
            "urgency": "$.sev",
            "status": "$.state",
        },
        {"impact": {"critical": 1}, "status": {"resolved": "resolved"}},
    )
    assert (result.title, result.external_id, result.impact, result.status) == ("Disk", "42", 1, "resolved")
    # Urgency has no value map: "critical" is not 1-3 nor high/medium/low, so the default is used.
    assert result.urgency is None and len(result.warnings) == 1


def test_a_very_long_external_id_is_kept_apart_from_its_neighbours_by_digest():
    base = "x" * 300
    first = extract({"id": base + "1", "t": "t"}, {"title": "$.t", "external_id": "$.id"}, {})
    second = extract({"id": base + "2", "t": "t"}, {"title": "$.t", "external_id": "$.id"}, {})
    assert first.external_id.startswith("sha256:") and first.external_id != second.external_id


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_extraction_never_fails_on_any_json_payload(payload):
    result = extract(
        payload,
        {"title": "$.a[0].b", "description": "$", "external_id": "$.id", "impact": "$.s", "status": "$.st"},
        {"impact": {"x": 1}},
    )
    assert isinstance(result.title, str) and len(result.title) <= 200


@pytest.mark.django_db
def test_saving_a_source_with_a_bad_mapping_is_refused_with_the_reasons(make_user):
    from opsdesk.accounts.choices import Role

    source = WebhookSource(
        name="x",
        slug="x",
        secret="s",
        account=make_user(role=Role.REQUESTER),
        field_map={"description": "$.d"},
        value_map={"impact": {"p1": 7}},
    )
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    errors = caught.value.message_dict
    assert "Map the title" in " ".join(errors["field_map"])
    assert "must map to 1" in " ".join(errors["value_map"])
    assert "staff role" in " ".join(errors["account"])
