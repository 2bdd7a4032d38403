"""The people and organisation screens: forms offer only what the editor may change,
writes go through the services, and a stale edit never overwrites anything."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Absence, AgentSkill, Location, Organization, Shift, TeamMembership, User
from opsdesk.accounts.services import user_update
from opsdesk.core.services import record_update
from tests.accounts.factories import LocationFactory, OrganizationFactory, SkillFactory, TeamFactory

pytestmark = pytest.mark.django_db

PROTECTED = {"role", "organization", "is_active", "is_vip"}


@pytest.mark.parametrize(
    ("editor_role", "target", "offered", "hidden"),
    [
        (Role.REQUESTER, "self", set(), PROTECTED),
        (Role.AGENT, "self", set(), PROTECTED),
        (Role.MANAGER, "self", {"organization", "is_vip"}, {"role", "is_active"}),
        (Role.MANAGER, "agent", PROTECTED, set()),
        (Role.MANAGER, "auditor", {"organization", "is_active"}, {"role"}),
        (Role.ADMIN, "auditor", PROTECTED, set()),
    ],
)
def test_user_form_offers_protected_fields_only_to_those_who_may_change_them(
    client, make_user, editor_role, target, offered, hidden
):
    editor = make_user(role=editor_role)
    person = editor if target == "self" else make_user(role=target)
    client.force_login(editor)
    fields = set(client.get(reverse("accounts:user_edit", args=[person.pk])).context["form"].fields)
    assert offered <= fields
    assert not (hidden & fields)


def test_manager_cannot_pick_a_privileged_role(client, make_user):
    client.force_login(make_user(role=Role.MANAGER))
    choices = dict(client.get(reverse("accounts:user_add")).context["form"].fields["role"].choices)
    assert Role.AGENT in choices and Role.ADMIN not in choices and Role.AUDITOR not in choices


def test_requester_edits_their_profile_and_a_smuggled_role_is_ignored(client, make_user):
    requester = make_user(role=Role.REQUESTER)
    client.force_login(requester)
    form = client.get(reverse("accounts:user_edit", args=[requester.pk])).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(phone="+49 30 1234", role=Role.ADMIN, is_active="", version=requester.version)
    response = client.post(reverse("accounts:user_edit", args=[requester.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    requester.refresh_from_db()
    assert (requester.phone, requester.role, requester.is_active) == ("+49 30 1234", Role.REQUESTER, True)


def test_manager_creates_a_person_through_the_service(client, make_user):
    manager = make_user(role=Role.MANAGER)
    organization = OrganizationFactory()
    client.force_login(manager)
    response = client.post(
        reverse("accounts:user_add"),
        {
            "username": "new.agent",
            "first_name": "Nia",
            "last_name": "Neu",
            "email": "nia@example.com",
            "language": "en",
            "time_zone": "Europe/Berlin",
            "presence": "available",
            "role": Role.AGENT,
            "organization": organization.pk,
            "initial_password": "violet harbour 27",
        },
    )
    person = User.objects.get(username="new.agent")
    assert response["Location"] == person.get_absolute_url()
    assert person.check_password("violet harbour 27") and person.role == Role.AGENT
    assert person.time_zone == "Europe/Berlin"


def test_weak_initial_password_is_reported_on_its_field(client, make_user):
    client.force_login(make_user(role=Role.MANAGER))
    response = client.post(
        reverse("accounts:user_add"),
        {
            "username": "weak",
            "language": "en",
            "time_zone": "UTC",
            "presence": "available",
            "role": Role.AGENT,
            "initial_password": "1234567890",
        },
    )
    assert response.status_code == 400
    assert "initial_password" in response.context["form"].errors
    assert not User.objects.filter(username="weak").exists()


def _location_form_data(site: Location, **changes) -> dict:
    data = {
        "name": site.name,
        "address": site.address,
        "city": site.city,
        "country": site.country,
        "time_zone": site.time_zone,
        "version": site.version,
    }
    data.update(changes)
    return data


def test_stale_edit_shows_the_conflict_keeps_the_input_and_overwrites_nothing(client, make_user):
    manager, colleague = make_user(role=Role.MANAGER), make_user(role=Role.MANAGER)
    site = LocationFactory(name="Berlin HQ", city="Berlin")
    client.force_login(manager)
    loaded = client.get(reverse("accounts:location_edit", args=[site.pk])).context["version"]
    # Meanwhile a colleague renames the site.
    record_update(instance=Location.objects.get(pk=site.pk), actor=colleague, data={"city": "Potsdam"})

    response = client.post(
        reverse("accounts:location_edit", args=[site.pk]),
        _location_form_data(site, name="Berlin Campus", version=loaded),
    )

    assert response.status_code == 409
    assert b"Someone else changed this while you were editing" in response.content
    assert b'value="Berlin Campus"' in response.content
    assert {"label": "City", "saved": "Potsdam", "yours": "Berlin"} in response.context["conflict"][
        "differences"
    ]
    site.refresh_from_db()
    assert (site.name, site.city) == ("Berlin HQ", "Potsdam")


def test_after_seeing_the_conflict_saving_again_is_a_deliberate_overwrite(client, make_user):
    manager, colleague = make_user(role=Role.MANAGER), make_user(role=Role.MANAGER)
    site = LocationFactory(name="Berlin HQ", city="Berlin")
    client.force_login(manager)
    record_update(instance=Location.objects.get(pk=site.pk), actor=colleague, data={"city": "Potsdam"})
    conflict = client.post(
        reverse("accounts:location_edit", args=[site.pk]),
        _location_form_data(site, name="Berlin Campus", version=1),
    )
    again = client.post(
        reverse("accounts:location_edit", args=[site.pk]),
        _location_form_data(site, name="Berlin Campus", version=conflict.context["version"]),
    )
    assert again.status_code == 302
    site.refresh_from_db()
    assert site.name == "Berlin Campus"


def test_stale_profile_edit_is_refused_too(client, make_user):
    requester = make_user(role=Role.REQUESTER, phone="111")
    client.force_login(requester)
    form = client.get(reverse("accounts:user_edit", args=[requester.pk])).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    user_update(actor=requester, user=User.objects.get(pk=requester.pk), data={"phone": "222"})
    data.update(phone="333", version=1)
    response = client.post(reverse("accounts:user_edit", args=[requester.pk]), data)
    assert response.status_code == 409
    requester.refresh_from_db()
    assert requester.phone == "222"


def test_edit_without_a_version_is_refused(client, make_user):
    site = LocationFactory(name="Berlin HQ")
    client.force_login(make_user(role=Role.MANAGER))
    data = _location_form_data(site, name="Elsewhere")
    del data["version"]
    assert client.post(reverse("accounts:location_edit", args=[site.pk]), data).status_code == 400
    site.refresh_from_db()
    assert site.name == "Berlin HQ"


def test_invalid_time_zone_is_a_form_error(client, make_user):
    site = LocationFactory(name="Berlin HQ")
    client.force_login(make_user(role=Role.MANAGER))
    response = client.post(
        reverse("accounts:location_edit", args=[site.pk]),
        _location_form_data(site, time_zone="../../etc/passwd"),
    )
    assert response.status_code == 400
    assert "time_zone" in response.context["form"].errors


def test_organisation_page_shows_its_parent_and_children(client, make_user):
    group = OrganizationFactory(name="Acme Group")
    acme = OrganizationFactory(name="Acme Logistics", parent=group)
    OrganizationFactory(name="Acme Fleet", parent=acme)
    client.force_login(make_user(role=Role.AGENT))
    response = client.get(acme.get_absolute_url())
    assert [org.name for org in response.context["ancestors"]] == ["Acme Group"]
    assert [org.name for org in response.context["children"]] == ["Acme Fleet"]


def test_organisation_cannot_be_moved_inside_its_own_child(client, make_user):
    parent = OrganizationFactory(name="Parent")
    child = OrganizationFactory(name="Child", parent=parent)
    client.force_login(make_user(role=Role.MANAGER))
    response = client.post(
        reverse("accounts:organization_edit", args=[parent.pk]),
        {
            "name": "Parent",
            "kind": parent.kind,
            "parent": child.pk,
            "version": parent.version,
        },
    )
    assert response.status_code == 400
    assert "parent" in response.context["form"].errors
    assert Organization.objects.get(pk=parent.pk).parent is None


def test_team_lead_adds_and_removes_members(client, make_user):
    lead, agent = make_user(role=Role.TEAM_LEAD), make_user(role=Role.AGENT)
    team = TeamFactory(lead=lead)
    client.force_login(lead)
    client.post(reverse("accounts:team_member_add", args=[team.pk]), {"user": agent.pk})
    assert TeamMembership.objects.filter(team=team, user=agent).exists()
    client.post(reverse("accounts:team_member_remove", args=[team.pk, agent.pk]))
    assert not TeamMembership.objects.filter(team=team, user=agent).exists()


def test_agent_who_does_not_lead_the_team_cannot_change_its_members(client, make_user):
    team = TeamFactory(lead=make_user(role=Role.TEAM_LEAD))
    outsider, agent = make_user(role=Role.AGENT), make_user(role=Role.AGENT)
    client.force_login(outsider)
    response = client.post(reverse("accounts:team_member_add", args=[team.pk]), {"user": agent.pk})
    assert response.status_code == 403
    assert not TeamMembership.objects.filter(team=team).exists()
    assert client.get(team.get_absolute_url()).context["member_form"] is None


def test_requesters_cannot_join_support_teams(client, make_user):
    lead = make_user(role=Role.TEAM_LEAD)
    team = TeamFactory(lead=lead)
    requester = make_user(role=Role.REQUESTER)
    client.force_login(lead)
    client.post(reverse("accounts:team_member_add", args=[team.pk]), {"user": requester.pk})
    assert not TeamMembership.objects.filter(team=team).exists()


def test_user_page_shows_teams_skills_shifts_absences_and_availability(client, make_user):
    agent = make_user(role=Role.AGENT)
    lead = make_user(role=Role.TEAM_LEAD)
    team = TeamFactory(name="Network", lead=lead)
    TeamMembership.objects.create(team=team, user=agent)
    AgentSkill.objects.create(user=agent, skill=SkillFactory(name="BGP"), level=5)
    now = timezone.now()
    Absence.objects.create(
        user=agent,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=1),
        note="Conference",
    )
    client.force_login(lead)
    response = client.get(agent.get_absolute_url())
    assert [t.name for t in response.context["teams"]] == ["Network"]
    assert response.context["availability"] == "out_of_office"
    assert b"BGP" in response.content and b"5 \xe2\x80\x94 expert" in response.content
    assert b"Conference" in response.content
    # The lead maintains their members' records; an unrelated agent only reads them.
    assert response.context["can_add_shift"] is True
    client.force_login(make_user(role=Role.AGENT))
    assert client.get(agent.get_absolute_url()).context["can_add_shift"] is False


def test_lead_records_a_shift_for_a_member(client, make_user):
    lead, agent = make_user(role=Role.TEAM_LEAD), make_user(role=Role.AGENT)
    TeamMembership.objects.create(team=TeamFactory(lead=lead), user=agent)
    client.force_login(lead)
    response = client.post(
        reverse("accounts:shift_add"), {"user": agent.pk, "weekday": 2, "starts": "22:00", "ends": "06:00"}
    )
    assert response["Location"] == agent.get_absolute_url()
    assert Shift.objects.get(user=agent).starts == datetime.time(22)


def test_lead_is_not_offered_people_outside_their_teams(client, make_user):
    lead, stranger = make_user(role=Role.TEAM_LEAD), make_user(role=Role.AGENT)
    TeamFactory(lead=lead)
    client.force_login(lead)
    response = client.post(
        reverse("accounts:shift_add"), {"user": stranger.pk, "weekday": 2, "starts": "08:00", "ends": "16:00"}
    )
    assert response.status_code == 400
    assert not Shift.objects.exists()


def test_agent_records_their_own_time_away(client, make_user):
    agent = make_user(role=Role.AGENT)
    client.force_login(agent)
    response = client.post(
        reverse("accounts:absence_add"),
        {
            "user": agent.pk,
            "kind": "holiday",
            "starts_at": "2031-07-01T09:00",
            "ends_at": "2031-07-14T17:00",
        },
    )
    assert response.status_code == 302
    assert Absence.objects.get(user=agent).note == ""


def test_absence_must_end_after_it_starts(client, make_user):
    agent = make_user(role=Role.AGENT)
    client.force_login(agent)
    response = client.post(
        reverse("accounts:absence_add"),
        {
            "user": agent.pk,
            "kind": "holiday",
            "starts_at": "2031-07-14T09:00",
            "ends_at": "2031-07-01T17:00",
        },
    )
    assert response.status_code == 400
    assert "ends_at" in response.context["form"].errors


def test_manager_deletes_a_location_with_its_version(client, make_user):
    site = LocationFactory(name="Closing office")
    client.force_login(make_user(role=Role.MANAGER))
    response = client.post(reverse("accounts:location_delete", args=[site.pk]), {"version": site.version})
    assert response["Location"] == reverse("accounts:location_list")
    assert not Location.objects.filter(pk=site.pk).exists()


def test_list_search_sort_and_filter(client, make_user):
    agent = make_user(role=Role.AGENT, last_name="Zed")
    make_user(role=Role.REQUESTER, last_name="Able", first_name="Amy")
    client.force_login(agent)
    sorted_names = [
        u.last_name
        for u in client.get(reverse("accounts:user_list"), {"sort": "name"}).context["object_list"]
    ]
    assert sorted_names == sorted(sorted_names)
    found = client.get(reverse("accounts:user_list"), {"q": "able"}).context["object_list"]
    assert [u.last_name for u in found] == ["Able"]
    agents = client.get(reverse("accounts:user_list"), {"role": "agent"}).context["object_list"]
    assert list(agents) == [agent]


def test_user_list_filters_by_team_by_name(client, make_user):
    agent = make_user(role=Role.AGENT)
    make_user(role=Role.AGENT)
    team = TeamFactory()
    TeamMembership.objects.create(team=team, user=agent)
    client.force_login(agent)
    response = client.get(reverse("accounts:user_list"), {"team": team.pk})
    assert list(response.context["object_list"]) == [agent]
    assert team.name.encode() in response.content
