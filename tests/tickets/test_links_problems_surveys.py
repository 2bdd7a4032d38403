"""Parent and child, merging duplicates, problems and known errors, satisfaction, attachments."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.tickets import services
from opsdesk.tickets.choices import EventKind, ProblemStatus, Status
from opsdesk.tickets.models import Survey, TimelineEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user):
    return make_user(role="agent")


@pytest.fixture
def requester(make_user):
    return make_user()


def test_resolving_a_major_incident_can_resolve_its_children(agent, requester, make_user):
    parent = services.ticket_create(actor=requester, title="E-mail down")
    children = [services.ticket_create(actor=make_user(), title=f"No mail {n}") for n in range(3)]
    for child in children:
        services.ticket_set_parent(actor=agent, ticket=child, parent=parent)
    parent.refresh_from_db()
    assert parent.is_major
    services.ticket_transition(
        actor=agent, ticket=parent, to=Status.RESOLVED, resolution_code="solved", resolve_children=True
    )
    assert {child.status for child in parent.children.all()} == {Status.RESOLVED}


def test_children_cannot_nest(agent, requester):
    parent, child, grandchild = (services.ticket_create(actor=requester, title=t) for t in "abc")
    services.ticket_set_parent(actor=agent, ticket=child, parent=parent)
    with pytest.raises(ServiceError, match="itself a child"):
        services.ticket_set_parent(actor=agent, ticket=grandchild, parent=child)


def test_merging_moves_the_conversation_and_tells_the_duplicates_requester(agent, requester, make_user):
    other = make_user()
    original = services.ticket_create(actor=requester, title="Printer broken")
    duplicate = services.ticket_create(actor=other, title="Printer on floor 2 broken")
    services.ticket_reply(actor=other, ticket=duplicate, body="It shows error 50.2")
    services.ticket_merge(actor=agent, duplicate=duplicate, into=original)
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.resolution_code, duplicate.duplicate_of) == (
        Status.RESOLVED,
        "duplicate",
        original,
    )
    assert original.events.filter(kind=EventKind.PUBLIC_REPLY, body="It shows error 50.2").exists()
    assert other in original.watchers.all()
    told = TimelineEvent.objects.restrict(other, "view").filter(ticket=duplicate, kind=EventKind.PUBLIC_REPLY)
    assert told.filter(body__contains=original.number).exists()
    with pytest.raises(ServiceError):
        services.ticket_merge(actor=agent, duplicate=original, into=original)


def test_requesters_cannot_link_or_merge(requester):
    first, second = (services.ticket_create(actor=requester, title=t) for t in "ab")
    with pytest.raises(NotAllowed):
        services.ticket_merge(actor=requester, duplicate=first, into=second)


def test_a_known_error_needs_cause_and_workaround_and_links_incidents(agent, requester):
    incident = services.ticket_create(actor=requester, title="VPN drops hourly")
    with pytest.raises(ServiceError, match="root cause and a workaround"):
        services.problem_create(actor=agent, title="VPN drops", known_error=True)
    problem = services.problem_create(
        actor=agent,
        title="VPN drops",
        incidents=[incident],
        root_cause="DHCP lease of 60 minutes",
        workaround="Reconnect",
        known_error=True,
    )
    assert problem.number == "PRB0001001" and problem.status == ProblemStatus.KNOWN_ERROR
    incident.refresh_from_db()
    assert incident.problem == problem
    request = services.ticket_create(actor=requester, title="Laptop", type="request")
    with pytest.raises(ServiceError, match="Only incidents"):
        services.problem_link_incident(actor=agent, problem=problem, incident=request)


def test_resolution_asks_for_a_rating_and_a_low_one_flags_and_may_reopen(agent, requester):
    ticket = services.ticket_create(actor=requester, title="x")
    services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved")
    survey = Survey.objects.get(ticket=ticket)
    assert len(survey.token) >= 40
    with pytest.raises(ServiceError):
        services.survey_answer(survey=survey, rating=6)
    with pytest.raises(NotAllowed):
        services.survey_answer(survey=survey, rating=1, actor=agent)
    services.survey_answer(survey=survey, rating=1, comment="Still slow", reopen=True)
    ticket.refresh_from_db()
    assert survey.needs_review and ticket.status == Status.IN_PROGRESS and ticket.reopen_count == 1
    with pytest.raises(ServiceError, match="rated already"):
        services.survey_answer(survey=survey, rating=5)


def test_attachments_are_checked_and_private_ones_are_for_agents(agent, requester, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ticket = services.ticket_create(actor=requester, title="Screenshot attached")
    with pytest.raises(ServiceError, match=r"not really a \.png"):
        services.ticket_attach(
            actor=requester, ticket=ticket, upload=SimpleUploadedFile("shot.png", b"MZ\x90")
        )
    with pytest.raises(NotAllowed):
        services.ticket_attach(
            actor=requester, ticket=ticket, public=False, upload=SimpleUploadedFile("log.txt", b"error")
        )
    attachment = services.ticket_attach(
        actor=requester, ticket=ticket, upload=SimpleUploadedFile("error log.txt", b"Error 50.2 at 10:01")
    )
    assert attachment.original_name == "error log.txt" and attachment.content_type == "text/plain"
    assert "error log" not in attachment.file.name


@pytest.mark.django_db(transaction=True)
def test_resolution_emails_the_requester_one_click_rating_links_once(agent, make_user, smtp_server):
    from tests.core.test_jobs_and_scheduler import run_queued_tasks

    requester = make_user(email="riley@example.com")
    ticket = services.ticket_create(actor=requester, title="Printer jam")
    services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved")
    run_queued_tasks()
    run_queued_tasks()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == f"[{ticket.number}] How did we do? Printer jam"
    token = Survey.objects.get(ticket=ticket).token
    assert f"/tickets/rate/{token}/5/" in message.get_content()


def test_a_late_low_rating_is_kept_and_flagged_even_when_the_ticket_can_no_longer_reopen(
    agent, requester, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from opsdesk.tickets.models import Ticket

    ticket = services.ticket_create(actor=requester, title="x")
    services.ticket_transition(actor=agent, ticket=ticket, to=Status.RESOLVED, resolution_code="solved")
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - timedelta(days=settings.TICKET_REOPEN_DAYS + 1)
    )
    survey = Survey.objects.get(ticket=ticket)
    services.survey_answer(survey=survey, rating=1, comment="Never fixed", reopen=True)
    survey.refresh_from_db()
    ticket.refresh_from_db()
    assert (survey.rating, survey.needs_review, ticket.status) == (1, True, Status.RESOLVED)
