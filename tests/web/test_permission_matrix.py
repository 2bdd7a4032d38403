"""Every page of the web UI against every kind of visitor.

Anonymous visitors are sent to sign in; people without the right get 403 (they may know the
record exists) or 404 (they may not even see it); people with the right get the page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.models import SecurityEvent

pytestmark = pytest.mark.django_db

ANONYMOUS = None

# (url name, how to get its arguments from the world, who asks, expected status)
MATRIX = [
    # --- the shell -----------------------------------------------------------------------
    ("home", None, ANONYMOUS, 302),
    ("home", None, "agent", 200),
    ("home", None, "requester", 302),
    ("portal", None, ANONYMOUS, 302),
    ("portal", None, "requester", 200),
    ("portal", None, "agent", 200),
    ("search", None, ANONYMOUS, 302),
    ("search", None, "requester", 200),
    ("password_change", None, ANONYMOUS, 302),
    ("password_change", None, "requester", 200),
    ("tokens", None, ANONYMOUS, 302),
    ("tokens", None, "requester", 200),
    # --- the platform's logs: auditors, managers, admins only ---------------------------------
    ("audit_log", None, ANONYMOUS, 302),
    ("audit_log", None, "agent", 403),
    ("audit_log", None, "requester", 403),
    ("audit_log", None, "auditor", 200),
    ("audit_log", None, "admin", 200),
    ("security_log", None, ANONYMOUS, 302),
    ("security_log", None, "lead", 403),
    ("security_log", None, "auditor", 200),
    ("job_list", None, ANONYMOUS, 302),
    ("job_list", None, "agent", 403),
    ("job_list", None, "manager", 200),
    ("job_detail", "job", ANONYMOUS, 302),
    ("job_detail", "job", "agent", 404),
    ("job_detail", "job", "auditor", 200),
    # --- people ---------------------------------------------------------------------------------
    ("accounts:user_list", None, ANONYMOUS, 302),
    ("accounts:user_list", None, "requester", 200),
    ("accounts:user_list", None, "agent", 200),
    ("accounts:user_detail", "requester", "requester", 200),
    ("accounts:user_detail", "other_requester", "requester", 404),
    ("accounts:user_detail", "other_requester", "agent", 200),
    ("accounts:user_detail", "agent", ANONYMOUS, 302),
    ("accounts:user_add", None, "agent", 403),
    ("accounts:user_add", None, "manager", 200),
    ("accounts:user_edit", "requester", "requester", 200),
    ("accounts:user_edit", "other_requester", "requester", 404),
    ("accounts:user_edit", "lead", "agent", 403),
    ("accounts:user_edit", "agent", "manager", 200),
    # --- organisations: requesters see only their own -----------------------------------------
    ("accounts:organization_list", None, "requester", 200),
    ("accounts:organization_detail", "org_a", "requester", 200),
    ("accounts:organization_detail", "org_b", "requester", 404),
    ("accounts:organization_detail", "org_b", "agent", 200),
    ("accounts:organization_add", None, "agent", 403),
    ("accounts:organization_add", None, "manager", 200),
    ("accounts:organization_edit", "org_a", "requester", 403),
    ("accounts:organization_edit", "org_b", "requester", 404),
    ("accounts:organization_edit", "org_a", "manager", 200),
    ("accounts:organization_delete", "org_b", "agent", 403),
    ("accounts:organization_delete", "org_b", "manager", 200),
    # --- locations: everyone reads, managers write ------------------------------------------------
    ("accounts:location_list", None, ANONYMOUS, 302),
    ("accounts:location_list", None, "requester", 200),
    ("accounts:location_detail", "location", "requester", 200),
    ("accounts:location_add", None, "agent", 403),
    ("accounts:location_edit", "location", "agent", 403),
    ("accounts:location_edit", "location", "manager", 200),
    ("accounts:location_delete", "location", "auditor", 403),
    ("accounts:location_delete", "location", "admin", 200),
    # --- teams: staff read; the lead and managers change --------------------------------------------
    ("accounts:team_list", None, "requester", 403),
    ("accounts:team_list", None, "agent", 200),
    ("accounts:team_detail", "team", "requester", 404),
    ("accounts:team_detail", "team", "agent", 200),
    ("accounts:team_edit", "team", "agent", 403),
    ("accounts:team_edit", "team", "lead", 200),
    ("accounts:team_add", None, "lead", 403),
    ("accounts:team_add", None, "manager", 200),
    ("accounts:team_delete", "team", "lead", 403),
    ("accounts:team_delete", "team", "manager", 200),
    # --- skills, shifts, absences ------------------------------------------------------------------
    ("accounts:skill_list", None, "requester", 403),
    ("accounts:skill_list", None, "agent", 200),
    ("accounts:skill_detail", "skill", "requester", 404),
    ("accounts:skill_detail", "skill", "agent", 200),
    ("accounts:skill_add", None, "agent", 403),
    ("accounts:skill_add", None, "manager", 200),
    ("accounts:agentskill_add", None, "agent", 403),
    ("accounts:agentskill_add", None, "lead", 200),
    ("accounts:agentskill_edit", "agent_skill", "lead", 200),
    ("accounts:agentskill_edit", "agent_skill", "requester", 404),
    ("accounts:agentskill_delete", "agent_skill", "agent", 403),
    ("accounts:shift_add", None, "agent", 403),
    ("accounts:shift_add", None, "lead", 200),
    ("accounts:shift_edit", "shift", "agent", 403),
    ("accounts:shift_edit", "shift", "lead", 200),
    ("accounts:shift_delete", "shift", "manager", 200),
    ("accounts:absence_list", None, "requester", 403),
    ("accounts:absence_list", None, "agent", 200),
    ("accounts:absence_add", None, "requester", 403),
    ("accounts:absence_add", None, "agent", 200),
    ("accounts:absence_edit", "absence", "agent", 200),
    ("accounts:absence_edit", "absence", "requester", 404),
    ("accounts:absence_edit", "absence", "manager", 200),
    ("accounts:absence_delete", "absence", "lead", 200),
]


def _id(row):
    name, target, who, status = row
    return f"{name}[{target or '-'}]-as-{who or 'anonymous'}-{status}"


@pytest.mark.parametrize(("name", "target", "who", "status"), MATRIX, ids=[_id(row) for row in MATRIX])
def test_page_answers_each_visitor_as_designed(client, world, name, target, who, status):
    args = [getattr(world, target).pk] if target else []
    url = reverse(name, args=args)
    if who is not None:
        client.force_login(getattr(world, who))
    response = client.get(url)
    assert response.status_code == status, response.content[:500]
    if who is None:
        assert response["Location"].startswith(reverse("login"))


def test_refusals_land_in_the_security_log(client, world):
    client.force_login(world.agent)
    response = client.get(reverse("audit_log"))
    assert response.status_code == 403
    event = SecurityEvent.objects.get(kind=SecurityEventKind.PERMISSION_DENIED)
    assert (event.user, event.path) == (world.agent, reverse("audit_log"))


def test_refusal_page_is_the_friendly_layout(client, world):
    client.force_login(world.requester)
    response = client.get(reverse("accounts:team_list"))
    assert response.status_code == 403
    assert b"You do not have access to this page" in response.content
    assert b"Go to your home page" in response.content


def test_requester_user_list_shows_only_themselves(client, world):
    client.force_login(world.requester)
    response = client.get(reverse("accounts:user_list"))
    assert list(response.context["object_list"]) == [world.requester]


def test_requester_filter_offers_no_other_organisations(client, world):
    """The organisation drop-down must not leak the names of other customers."""
    client.force_login(world.requester)
    response = client.get(reverse("accounts:user_list"))
    assert b"Globex" not in response.content
    assert list(response.context["filter"].form.fields["organization"].queryset) == [world.org_a]
