"""The service desk's rules as the services enforce them on every channel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opsdesk.accounts.choices import Role
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.models import AuditEntry
from opsdesk.tickets import services
from opsdesk.tickets.choices import EventKind, Status
from opsdesk.tickets.models import PriorityRule, Ticket, TimelineEvent
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user):
    return make_user(role="agent")


@pytest.fixture
def requester(make_user):
    return make_user()


def test_tickets_get_human_numbers_per_type(requester):
    first = services.ticket_create(actor=requester, title="Printer jam")
    second = services.ticket_create(actor=requester, title="Another jam")
    request = services.ticket_create(actor=requester, title="New laptop", type="request")
    assert (first.number, second.number, request.number) == ("INC0001001", "INC0001002", "REQ0001001")


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"), [(1, 1, 1), (1, 3, 3), (2, 2, 3), (3, 2, 4), (3, 3, 5)]
)
def test_priority_follows_the_itil_matrix(requester, impact, urgency, priority):
    ticket = services.ticket_create(actor=requester, title="x", impact=impact, urgency=urgency)
    assert ticket.priority == priority


def test_an_edited_matrix_cell_changes_new_priorities(requester):
    PriorityRule.objects.create(impact=3, urgency=3, priority=4)
    assert services.ticket_create(actor=requester, title="x").priority == 4


def test_html_descriptions_are_sanitized_on_input(requester):
    ticket = services.ticket_create(
        actor=requester,
        title="x",
        description_html='<p onclick="steal()">Hi<script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">link</a>',
    )
    assert "script" not in ticket.description_html and "onclick" not in ticket.description_html
    assert "javascript:" not in ticket.description_html
    markdown = services.ticket_create(
        actor=requester, title="y", description="**bold** <img src=x onerror=y>"
    )
    assert "<strong>bold</strong>" in markdown.description_html and "onerror" not in markdown.description_html


def test_requesters_raise_tickets_only_for_themselves(requester, make_user):
    with pytest.raises(NotAllowed):
        services.ticket_create(actor=requester, requester=make_user(), title="On behalf")


def test_assignment_is_only_to_members_of_the_team(agent, requester, make_user):
    team = TeamFactory()
    TeamMembershipFactory(team=team, user=agent)
    ticket = services.ticket_create(actor=requester, title="VPN down")
    with pytest.raises(ServiceError) as refused:
        services.ticket_assign(actor=agent, ticket=ticket, team=team, assignee=make_user(role="agent"))
    assert refused.value.field == "assignee"
    services.ticket_assign(actor=agent, ticket=ticket, team=team, assignee=agent)
    assert (ticket.status, ticket.assignee, ticket.tier) == (Status.ASSIGNED, agent, team.tier)
    assert ticket.assigned_at is not None


def test_an_illegal_transition_names_the_allowed_ones(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    with pytest.raises(ServiceError) as refused:
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.CLOSED)
    assert "allowed: assigned, in progress, pending, resolved, cancelled" in refused.value.message


def test_resolving_needs_a_resolution_code_and_sets_the_milestone(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    with pytest.raises(ServiceError, match="resolution_code"):
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED)
    services.ticket_transition(
        actor=agent,
        ticket=ticket,
        to=Status.RESOLVED,
        resolution_code="solved",
        resolution_notes="Restarted the spooler",
    )
    assert ticket.resolved_at is not None and ticket.resolution_code == "solved"


def test_pending_needs_a_reason_and_a_requester_reply_resumes_work(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    with pytest.raises(ServiceError, match="pending_reason"):
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.PENDING)
    services.ticket_transition(actor=agent, ticket=ticket, to=Status.PENDING, pending_reason="requester")
    services.ticket_reply(actor=requester, ticket=ticket, body="Here is the screenshot.")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.pending_reason) == (Status.IN_PROGRESS, "")


def test_requesters_may_reopen_within_the_period_only(agent, requester, settings):
    ticket = services.ticket_create(actor=requester, title="x")
    services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved")
    services.ticket_transition(actor=requester, ticket=ticket, to=Status.IN_PROGRESS, note="Still broken")
    assert ticket.reopen_count == 1 and ticket.reopened_at is not None and ticket.resolved_at is None
    services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved")
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - timedelta(days=settings.TICKET_REOPEN_DAYS + 1)
    )
    ticket.refresh_from_db()
    with pytest.raises(ServiceError, match="reopen within"):
        services.ticket_transition(actor=requester, ticket=ticket, to=Status.IN_PROGRESS)


def test_requesters_cannot_resolve_or_write_internal_notes(requester):
    ticket = services.ticket_create(actor=requester, title="x")
    with pytest.raises(ServiceError, match="allowed: cancelled"):
        services.ticket_transition(
            actor=requester, ticket=ticket, to=Status.RESOLVED, resolution_code="solved"
        )
    with pytest.raises(NotAllowed):
        services.ticket_reply(actor=requester, ticket=ticket, body="psst", public=False)


def test_the_first_public_agent_reply_is_the_first_response(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    services.ticket_reply(actor=agent, ticket=ticket, body="Looking into it", public=False)
    assert ticket.first_response_at is None
    reply = services.ticket_reply(actor=agent, ticket=ticket, body="We are on it")
    assert ticket.first_response_at == reply.created_at


def test_requesters_see_their_own_tickets_and_their_organisations_where_allowed(make_user):
    shared = OrganizationFactory(requesters_see_organization=True)
    alice, bob = make_user(organization=shared), make_user(organization=shared)
    carol = make_user()
    mine = services.ticket_create(actor=alice, title="Alice's")
    colleague = services.ticket_create(actor=bob, title="Bob's")
    stranger = services.ticket_create(actor=carol, title="Carol's")
    assert set(Ticket.objects.restrict(alice, "view")) == {mine, colleague}
    assert set(Ticket.objects.restrict(carol, "view")) == {stranger}


def test_requesters_never_see_internal_notes(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    services.ticket_reply(actor=agent, ticket=ticket, body="Public")
    services.ticket_reply(actor=agent, ticket=ticket, body="Internal", public=False)
    visible = TimelineEvent.objects.restrict(requester, "view").filter(ticket=ticket)
    assert [event.kind for event in visible] == [EventKind.CREATED, EventKind.PUBLIC_REPLY]


def test_a_stale_update_is_refused_and_changes_nothing(agent, requester):
    from opsdesk.core.exceptions import ConcurrencyConflict

    ticket = services.ticket_create(actor=requester, title="Old title")
    seen = ticket.version
    services.ticket_update(
        actor=agent, ticket=Ticket.objects.get(pk=ticket.pk), data={"urgency": 1}, expected_version=seen
    )
    with pytest.raises(ConcurrencyConflict):
        services.ticket_update(
            actor=agent, ticket=Ticket.objects.get(pk=ticket.pk), data={"title": "New"}, expected_version=seen
        )
    assert Ticket.objects.get(pk=ticket.pk).title == "Old title"


def test_field_changes_recompute_priority_and_reach_timeline_and_audit(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    services.ticket_update(actor=agent, ticket=ticket, data={"impact": 1, "urgency": 1})
    assert ticket.priority == 1
    event = ticket.events.filter(kind=EventKind.FIELDS).get()
    assert event.data == {"impact": [3, 1], "urgency": [3, 1]}
    assert AuditEntry.objects.filter(object_id=str(ticket.pk), operation="update").exists()


def test_worklog_minutes_are_bounded(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    with pytest.raises(ServiceError):
        services.ticket_log_work(actor=agent, ticket=ticket, minutes=0)
    assert services.ticket_log_work(actor=agent, ticket=ticket, minutes=25, note="Reimaged").minutes == 25


def test_the_triage_queue_holds_new_unassigned_tickets_most_urgent_then_oldest(agent, requester):
    from opsdesk.tickets.selectors import triage_queue_for

    low = services.ticket_create(actor=requester, title="low")
    urgent = services.ticket_create(actor=requester, title="urgent", impact=1, urgency=1)
    older_urgent_peer = services.ticket_create(actor=requester, title="urgent too", impact=1, urgency=1)
    assigned = services.ticket_create(actor=requester, title="taken")
    services.ticket_assign(actor=agent, ticket=assigned, team=TeamFactory())
    assert list(triage_queue_for(user=agent)) == [urgent, older_urgent_peer, low]


def test_auditors_cannot_write_on_tickets_through_any_path(make_user, requester, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    auditor = make_user(role="auditor")
    ticket = services.ticket_create(actor=requester, title="x")
    with pytest.raises(NotAllowed):
        services.ticket_reply(actor=auditor, ticket=ticket, body="A note", public=False)
    with pytest.raises(NotAllowed):
        services.ticket_attach(actor=auditor, ticket=ticket, upload=SimpleUploadedFile("a.txt", b"text"))
    assert ticket.events.count() == 1 and not ticket.attachments.exists()


def test_priority_matrix_edits_are_audited(make_user):
    from opsdesk.core.services import record_create

    rule = record_create(
        model=PriorityRule, actor=make_user(role="manager"), data={"impact": 3, "urgency": 3, "priority": 4}
    )
    assert AuditEntry.objects.filter(object_id=str(rule.pk), operation="create").exists()


def test_resolved_tickets_close_themselves_after_the_reopen_period(agent, requester, settings):
    from opsdesk.tickets.services.lifecycle import tickets_close_resolved

    old, recent = (services.ticket_create(actor=requester, title=t) for t in ("old", "recent"))
    for ticket in (old, recent):
        services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved")
    Ticket.objects.filter(pk=old.pk).update(
        resolved_at=timezone.now() - timedelta(days=settings.TICKET_REOPEN_DAYS + 1)
    )
    assert tickets_close_resolved() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, recent.status) == (Status.CLOSED, Status.RESOLVED)
    assert old.closed_at is not None and old.events.filter(kind=EventKind.STATUS, author=None).exists()


def test_a_routing_rules_priority_survives_an_edit_of_other_fields(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    Ticket.objects.filter(pk=ticket.pk).update(priority=2)
    ticket.refresh_from_db()
    services.ticket_update(actor=agent, ticket=ticket, data={"title": "Better title"})
    assert ticket.priority == 2
    services.ticket_update(actor=agent, ticket=ticket, data={"urgency": 3})
    assert ticket.priority == 5


def test_watchers_may_reply_but_other_organisation_members_may_not(make_user, agent):
    from tests.accounts.factories import OrganizationFactory

    shared = OrganizationFactory(requesters_see_organization=True)
    owner, colleague, watcher = make_user(organization=shared), make_user(organization=shared), make_user()
    ticket = services.ticket_create(actor=owner, title="x", watchers=[watcher])
    services.ticket_reply(actor=watcher, ticket=ticket, body="Same here")
    with pytest.raises(NotAllowed):
        services.ticket_reply(actor=colleague, ticket=ticket, body="Me too")


def test_nul_characters_from_any_channel_never_reach_the_database(make_user):
    # PostgreSQL refuses NUL in text; mail, webhooks or scripts could send one.
    agent, requester = make_user(role=Role.AGENT), make_user()
    ticket = services.ticket_create(
        actor=requester,
        title="Printer\x00 on fire",
        description="It\x00 smokes",
        description_html="<p>a\x00b</p>",
    )
    assert ticket.title == "Printer on fire" and "\x00" not in ticket.description + ticket.description_html
    services.ticket_update(actor=agent, ticket=ticket, data={"title": "Printer\x00 still on fire"})
    event = services.ticket_reply(actor=agent, ticket=ticket, body="On\x00 it")
    ticket.refresh_from_db()
    assert ticket.title == "Printer still on fire" and event.body == "On it"
