"""Assignment inside a team: each team's strategy picks among the agents available now, and
the workload view shows how evenly the open work is spread."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from opsdesk.accounts.choices import Presence, Role
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.tickets import services
from opsdesk.tickets.choices import AssignmentStrategy, EventKind
from opsdesk.tickets.models import Category, TeamQueueSettings, Ticket
from opsdesk.tickets.selectors import workload_for
from tests.accounts.factories import (
    AbsenceFactory,
    AgentSkillFactory,
    ShiftFactory,
    SkillFactory,
    TeamFactory,
    TeamMembershipFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def requester(make_user):
    return make_user()


@pytest.fixture
def dispatcher(make_user):
    return make_user(role=Role.AGENT, username="dispatcher")


def team_with(make_user, strategy, names):
    team = TeamFactory()
    TeamQueueSettings.objects.create(team=team, strategy=strategy)
    agents = []
    for name in names:
        agent = make_user(role=Role.AGENT, username=name)
        TeamMembershipFactory(team=team, user=agent)
        agents.append(agent)
    return team, agents


def auto(dispatcher, requester, team, **fields):
    ticket = services.ticket_create(actor=requester, title="Help", **fields)
    return services.ticket_auto_assign(actor=dispatcher, ticket=ticket, team=team).assignee


def test_round_robin_takes_turns_and_wraps_round(make_user, dispatcher, requester):
    team, (ann, bob, cid) = team_with(make_user, AssignmentStrategy.ROUND_ROBIN, ["ann", "bob", "cid"])
    picked = [auto(dispatcher, requester, team) for _ in range(4)]
    assert picked == [ann, bob, cid, ann]


def test_only_agents_available_now_are_picked(make_user, dispatcher, requester):
    team, (ann, bob, cid, dee) = team_with(
        make_user, AssignmentStrategy.ROUND_ROBIN, ["ann", "bob", "cid", "dee"]
    )
    today = timezone.now().weekday()
    ShiftFactory(user=ann, weekday=(today + 3) % 7)  # works another day only: off shift
    now = timezone.now()
    AbsenceFactory(
        user=bob, starts_at=now - datetime.timedelta(hours=1), ends_at=now + datetime.timedelta(hours=8)
    )
    dee.presence = Presence.AWAY
    dee.save()
    assert [auto(dispatcher, requester, team) for _ in range(2)] == [cid, cid]


def test_least_loaded_weighs_open_tickets_by_priority(make_user, dispatcher, requester):
    team, (ann, bob) = team_with(make_user, AssignmentStrategy.LEAST_LOADED, ["ann", "bob"])
    p1 = services.ticket_create(actor=requester, title="Outage", impact=1, urgency=1)
    services.ticket_assign(actor=dispatcher, ticket=p1, team=team, assignee=ann)  # weighs 5
    for _ in range(3):  # three P5s weigh 3
        ticket = services.ticket_create(actor=requester, title="Someday")
        services.ticket_assign(actor=dispatcher, ticket=ticket, team=team, assignee=bob)
    assert auto(dispatcher, requester, team) == bob


def test_skills_based_picks_the_least_loaded_of_those_skilled_enough(make_user, dispatcher, requester):
    team, (ann, bob, cid) = team_with(make_user, AssignmentStrategy.SKILLS, ["ann", "bob", "cid"])
    sap = SkillFactory(name="SAP")
    AgentSkillFactory(user=ann, skill=sap, level=2)
    AgentSkillFactory(user=bob, skill=sap, level=4)
    AgentSkillFactory(user=cid, skill=sap, level=5)
    erp = Category.objects.create(name="ERP", required_skill=sap, min_skill_level=3)
    busy = services.ticket_create(actor=requester, title="Old")
    services.ticket_assign(actor=dispatcher, ticket=busy, team=team, assignee=cid)
    assert auto(dispatcher, requester, team, category=erp) == bob
    assert (
        auto(dispatcher, requester, team, category=erp) == cid
    )  # bob has one now, cid's tie is broken by level


def test_without_a_skilled_agent_available_the_ticket_waits_in_the_queue(make_user, dispatcher, requester):
    team, _ = team_with(make_user, AssignmentStrategy.SKILLS, ["ann"])
    erp = Category.objects.create(name="ERP", required_skill=SkillFactory(), min_skill_level=3)
    ticket = services.ticket_create(actor=requester, title="Help", category=erp)
    services.ticket_auto_assign(actor=dispatcher, ticket=ticket, team=team)
    assert ticket.assigned_team == team and ticket.assignee is None
    event = ticket.events.get(kind=EventKind.ASSIGNMENT)
    assert event.data["strategy"] == "skills" and "waits in its queue" in event.body


def test_a_manual_team_leaves_picking_to_people_who_can_always_assign(make_user, dispatcher, requester):
    team, (ann,) = team_with(make_user, AssignmentStrategy.MANUAL, ["ann"])
    ticket = services.ticket_create(actor=requester, title="Help")
    services.ticket_auto_assign(actor=dispatcher, ticket=ticket, team=team)
    assert ticket.assignee is None
    services.ticket_assign(actor=dispatcher, ticket=ticket, team=team, assignee=ann)
    assert ticket.assignee == ann


def test_requesters_cannot_auto_assign(make_user, requester):
    team, _ = team_with(make_user, AssignmentStrategy.ROUND_ROBIN, ["ann"])
    ticket = services.ticket_create(actor=requester, title="Help")
    with pytest.raises(NotAllowed):
        services.ticket_auto_assign(actor=requester, ticket=ticket, team=team)


def test_a_team_lead_sets_their_own_teams_strategy_and_no_other(make_user):
    lead = make_user(role=Role.TEAM_LEAD)
    own, other = TeamFactory(lead=lead), TeamFactory()
    settings = services.team_queue_settings_save(actor=lead, team=own, data={"strategy": "round_robin"})
    assert settings.strategy == AssignmentStrategy.ROUND_ROBIN
    with pytest.raises(NotAllowed):
        services.team_queue_settings_save(actor=lead, team=other, data={"strategy": "round_robin"})
    with pytest.raises(NotAllowed):
        services.team_queue_settings_save(
            actor=make_user(role=Role.AGENT), team=own, data={"strategy": "manual"}
        )
    with pytest.raises(ServiceError) as refused:
        services.team_queue_settings_save(actor=lead, team=own, data={"strategy": "coin_toss"})
    assert refused.value.field == "strategy"


def test_the_workload_counts_open_tickets_per_team_and_agent_by_priority_and_age(
    make_user, dispatcher, requester, django_assert_max_num_queries
):
    team, (ann, bob) = team_with(make_user, AssignmentStrategy.MANUAL, ["ann", "bob"])
    for assignee, impact in ((ann, 1), (ann, 3), (bob, 3), (None, 3)):
        ticket = services.ticket_create(actor=requester, title="x", impact=impact, urgency=impact)
        services.ticket_assign(actor=dispatcher, ticket=ticket, team=team, assignee=assignee)
    old = Ticket.objects.filter(assignee=ann, priority=5).get()
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    with django_assert_max_num_queries(4):
        (load,) = workload_for(user=dispatcher, teams=[team])
    by_agent = {row.agent.username: row.load for row in load.agents}
    assert (by_agent["ann"].open, by_agent["ann"].weighted, by_agent["bob"].weighted) == (2, 6, 1)
    assert by_agent["ann"].by_priority[1] == 1 and by_agent["ann"].by_priority[5] == 1
    assert by_agent["ann"].by_age["1d_to_3d"] == 1 and by_agent["ann"].by_age["under_4h"] == 1
    assert (load.queue.open, load.total.open, load.total.by_priority[5]) == (1, 4, 3)
    # Loads 6 and 1, mean 3.5: the busiest carries 1.71× the mean; deviation 2.5 / 3.5.
    assert (load.max_over_mean, load.coefficient_of_variation) == (1.71, 0.71)


def test_the_workload_costs_the_same_queries_for_many_tickets(
    make_user, dispatcher, requester, django_assert_num_queries
):
    team, agents = team_with(make_user, AssignmentStrategy.MANUAL, ["ann", "bob"])
    for index in range(30):
        ticket = services.ticket_create(actor=requester, title=f"t{index}")
        services.ticket_assign(actor=dispatcher, ticket=ticket, team=team, assignee=agents[index % 2])
    with django_assert_num_queries(3):
        workload_for(user=dispatcher)
