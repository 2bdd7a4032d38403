"""Learning paths (team assignments expanded at read time, progress, bad input) and the team
skills matrix with shifts and absences."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import Role, Weekday
from opsdesk.core.exceptions import NotAllowed
from opsdesk.learning import selectors, services
from opsdesk.learning.models import StepCompletion
from opsdesk.tickets.models import Category, Ticket
from tests.accounts.factories import (
    AbsenceFactory,
    AgentSkillFactory,
    ShiftFactory,
    SkillFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.learning.factories import ArticleFactory, LearningPathFactory, LearningPathStepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_user):
    lead = make_user(role=Role.TEAM_LEAD)
    team = TeamFactory(lead=lead, name="Service desk")
    ann, bob = make_user(role=Role.AGENT), make_user(role=Role.AGENT)
    for person in (ann, bob):
        TeamMembershipFactory(team=team, user=person)
    path = LearningPathFactory(name="Onboarding", owner=lead)
    steps = [LearningPathStepFactory(path=path, position=n) for n in (1, 2, 3, 4)]
    return {"lead": lead, "team": team, "ann": ann, "bob": bob, "path": path, "steps": steps}


def test_progress_is_per_agent_and_rounds_to_whole_percent(desk):
    services.learning_path_assign(actor=desk["lead"], data={"path": desk["path"], "team": desk["team"]})
    services.step_complete(actor=desk["ann"], step=desk["steps"][0])
    services.step_complete(actor=desk["ann"], step=desk["steps"][0])  # twice counts once
    services.step_complete(actor=desk["ann"], step=desk["steps"][2])
    (mine,) = selectors.my_learning(user=desk["ann"])
    assert (mine.done, mine.total, mine.percent) == (2, 4, 50)
    services.step_uncomplete(actor=desk["ann"], step=desk["steps"][2])
    (mine,) = selectors.my_learning(user=desk["ann"])
    assert mine.percent == 25
    rows = {
        row.user: row.percent for row in selectors.progress_overview(actor=desk["lead"], path=desk["path"])
    }
    assert rows == {desk["ann"]: 25, desk["bob"]: 0}


def test_a_team_assignment_follows_the_team_as_it_is_now(desk, make_user):
    due = timezone.localdate() + datetime.timedelta(days=14)
    services.learning_path_assign(
        actor=desk["lead"], data={"path": desk["path"], "team": desk["team"], "due_on": due}
    )
    newcomer = make_user(role=Role.AGENT)
    assert selectors.my_learning(user=newcomer) == []
    TeamMembershipFactory(team=desk["team"], user=newcomer)
    (row,) = selectors.my_learning(user=newcomer)
    assert row.due_on == due and row.via == ["team Service desk"]
    # A personal assignment with an earlier date wins; both routes are shown.
    earlier = due - datetime.timedelta(days=7)
    services.learning_path_assign(
        actor=desk["lead"], data={"path": desk["path"], "user": newcomer, "due_on": earlier}
    )
    (row,) = selectors.my_learning(user=newcomer)
    assert row.due_on == earlier and sorted(row.via) == ["personally", "team Service desk"]
    desk["team"].memberships.filter(user=desk["bob"]).delete()
    assert selectors.my_learning(user=desk["bob"]) == []


def test_agents_cannot_assign_and_leads_only_their_teams(desk, make_user, api_as):
    other = TeamFactory(name="Other")
    body = {"path": desk["path"].pk, "team": other.pk}
    assert (
        api_as(desk["ann"]).post("/api/v1/learning-path-assignments/", body, format="json").status_code == 403
    )
    assert (
        api_as(desk["lead"]).post("/api/v1/learning-path-assignments/", body, format="json").status_code
        == 403
    )
    ok = api_as(desk["lead"]).post(
        "/api/v1/learning-path-assignments/", {**body, "team": desk["team"].pk}, format="json"
    )
    assert ok.status_code == 201
    both = api_as(make_user(role=Role.MANAGER)).post(
        "/api/v1/learning-path-assignments/", {**body, "user": desk["ann"].pk}, format="json"
    )
    assert both.status_code == 400 and "one person or to one team" in str(both.json())
    assert api_as(make_user()).get("/api/v1/learning-paths/").json()["results"] == []
    progress = api_as(desk["lead"]).get(f"/api/v1/learning-paths/{desk['path'].pk}/progress/").json()
    assert {row["user"] for row in progress} == {desk["ann"].pk, desk["bob"].pk}


def test_a_duplicate_step_position_is_a_clear_error(desk, api_as):
    response = api_as(desk["lead"]).post(
        "/api/v1/learning-path-steps/",
        {"path": desk["path"].pk, "position": 2, "article": ArticleFactory().pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["position"] == ["Position 2 is already taken in this path."]
    appended = api_as(desk["lead"]).post(
        "/api/v1/learning-path-steps/",
        {"path": desk["path"].pk, "article": ArticleFactory().pk},
        format="json",
    )
    assert appended.status_code == 201 and appended.json()["position"] == 5


def test_marking_a_step_read_needs_the_article_to_be_readable(desk, make_user):
    from opsdesk.knowledge.choices import Audience

    secret = LearningPathStepFactory(
        path=desk["path"], position=9, article=ArticleFactory(audience=Audience.TEAM, team=TeamFactory())
    )
    with pytest.raises(NotAllowed):
        services.step_complete(actor=desk["ann"], step=secret)
    assert not StepCompletion.objects.exists()


def test_the_web_journey_of_an_agent(desk, client):
    services.learning_path_assign(actor=desk["lead"], data={"path": desk["path"], "team": desk["team"]})
    client.force_login(desk["ann"])
    page = client.get(reverse("learning:my_learning")).content.decode()
    assert "Onboarding" in page and "0 of 4 read" in page
    url = reverse("learning:learningpathstep_read", args=[desk["path"].pk, desk["steps"][0].pk])
    assert client.post(url).status_code == 302
    assert "1 of 4 read · 25%" in client.get(reverse("learning:my_learning")).content.decode()
    assert "read 1 of 4" in client.get(desk["path"].get_absolute_url()).content.decode()
    client.force_login(desk["lead"])
    assert "25%" in client.get(reverse("learning:progress")).content.decode()


# --- the skills matrix -------------------------------------------------------------------------
MONDAY_NOON = datetime.datetime(2025, 3, 3, 12, 0, tzinfo=datetime.UTC)


def _agent_with(team, skill, level, *, on_shift=True, make_user):
    person = make_user(role=Role.AGENT, time_zone="UTC")
    TeamMembershipFactory(team=team, user=person)
    AgentSkillFactory(user=person, skill=skill, level=level)
    if on_shift:
        ShiftFactory(user=person, weekday=Weekday.MONDAY, starts=datetime.time(8), ends=datetime.time(16))
    else:
        ShiftFactory(user=person, weekday=Weekday.TUESDAY, starts=datetime.time(8), ends=datetime.time(16))
    return person


def test_matrix_counts_qualified_and_on_shift_and_explains_gaps(make_user):
    manager = make_user(role=Role.MANAGER)
    network, desk = TeamFactory(name="Network"), TeamFactory(name="Desk")
    vpn = SkillFactory(name="VPN")
    category = Category.objects.create(name="VPN", required_skill=vpn, min_skill_level=3)
    on = _agent_with(network, vpn, 4, make_user=make_user)
    _agent_with(network, vpn, 3, on_shift=False, make_user=make_user)  # qualified, off shift
    _agent_with(network, vpn, 2, make_user=make_user)  # on shift, below the level
    away = _agent_with(network, vpn, 5, make_user=make_user)
    AbsenceFactory(
        user=away,
        starts_at=MONDAY_NOON - datetime.timedelta(hours=1),
        ends_at=MONDAY_NOON + datetime.timedelta(days=1),
    )
    _agent_with(desk, vpn, 3, make_user=make_user)
    ticket = Ticket.objects.create(
        title="VPN down", requester=make_user(), category=category, assigned_team=network
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=MONDAY_NOON - datetime.timedelta(days=3))

    matrix = selectors.skills_matrix(actor=manager, at=MONDAY_NOON)
    cell = matrix.cells[(network.pk, vpn.pk)]
    assert (cell.qualified, cell.on_shift, cell.needed) == (3, 1, True)
    assert cell.names_on_shift == [str(on)]
    assert matrix.cells[(desk.pk, vpn.pk)].needed is False  # no VPN tickets go there
    assert (matrix.desk[vpn.pk].qualified, matrix.desk[vpn.pk].on_shift) == (4, 2)
    (gap,) = matrix.gaps
    assert gap.team == network and gap.skill == vpn
    assert "1 of 2 needed agents on shift now with VPN at level 3" in gap.explanation
    assert "VPN (1)" in gap.explanation and "off shift, away or absent" in gap.explanation
    # With a higher bar the whole desk falls short too.
    assert {g.team for g in selectors.skills_matrix(actor=manager, at=MONDAY_NOON, minimum=3).gaps} == {
        network,
        None,
    }


def test_matrix_page_for_staff_only_and_with_a_sane_minimum(make_user, client):
    client.force_login(make_user())
    assert client.get(reverse("learning:skills_matrix")).status_code == 403
    client.force_login(make_user(role=Role.AGENT))
    response = client.get(reverse("learning:skills_matrix") + "?min=-4")
    assert response.status_code == 200 and b'value="2"' in response.content


def test_every_learning_page_renders_for_a_lead(desk, client):
    from tests.learning.factories import CertificationFactory, TrainingRecordFactory

    record = TrainingRecordFactory(user=desk["ann"], skill=SkillFactory(), level_reached=3)
    cert = CertificationFactory(user=desk["ann"])
    services.learning_path_assign(actor=desk["lead"], data={"path": desk["path"], "team": desk["team"]})
    client.force_login(desk["lead"])
    path, step = desk["path"], desk["steps"][0]
    urls = [
        reverse("learning:my_learning"),
        reverse("learning:skills_matrix"),
        reverse("learning:progress"),
        reverse("learning:trainingrecord_list"),
        reverse("learning:trainingrecord_add"),
        record.get_absolute_url(),
        reverse("learning:trainingrecord_edit", args=[record.pk]),
        reverse("learning:certification_list") + "?expiring=1",
        reverse("learning:certification_add"),
        cert.get_absolute_url(),
        reverse("learning:learningpath_list"),
        reverse("learning:learningpath_add"),
        path.get_absolute_url(),
        reverse("learning:learningpathstep_add", args=[path.pk]),
        reverse("learning:learningpathstep_edit", args=[path.pk, step.pk]),
        reverse("learning:learningpathassignment_add", args=[path.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert b"Confirm level 3" in client.get(record.get_absolute_url()).content
