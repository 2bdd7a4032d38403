"""What the service desk screens do: each action through its service, stale saves refused with
the input kept, bulk actions reporting per ticket, the one-click rating link."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opsdesk.tickets import services
from opsdesk.tickets.choices import EventKind, Status
from opsdesk.tickets.models import CannedResponse, SavedView, Survey, Ticket, TimelineEvent
from tests.tickets.test_views import build_desk

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db, settings, tmp_path):
    return build_desk(settings, tmp_path)


def _page(number: str) -> str:
    return reverse("tickets:detail", args=[number])


# --- the ticket page -------------------------------------------------------------------------
def test_a_stale_save_is_refused_with_409_and_the_input_kept(client, desk):
    client.force_login(desk.agent)
    seen = desk.ticket.version
    services.ticket_update(actor=desk.lead, ticket=desk.ticket, data={"title": "Mail is down for everyone"})
    response = client.post(
        reverse("tickets:update", args=[desk.ticket.number]),
        {"title": "My better title", "impact": "1", "urgency": "2", "tags": "mail", "version": str(seen)},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "My better title" in page and "changed by someone else" in page
    assert "Save my version" in page
    desk.ticket.refresh_from_db()
    assert desk.ticket.title == "Mail is down for everyone"
    # Saving again with the version the conflict page carries is a deliberate overwrite.
    response = client.post(
        reverse("tickets:update", args=[desk.ticket.number]),
        {"title": "My better title", "impact": "1", "urgency": "2", "version": str(desk.ticket.version)},
    )
    assert response.status_code == 302
    desk.ticket.refresh_from_db()
    assert (desk.ticket.title, desk.ticket.priority) == ("My better title", 2)


def test_a_stale_transition_is_refused_too(client, desk):
    client.force_login(desk.agent)
    seen = desk.ticket.version
    services.ticket_assign(actor=desk.lead, ticket=desk.ticket, team=desk.team)
    response = client.post(
        reverse("tickets:transition", args=[desk.ticket.number]), {"to": "in_progress", "version": str(seen)}
    )
    assert response.status_code == 409
    desk.ticket.refresh_from_db()
    assert desk.ticket.status == Status.ASSIGNED


def test_the_page_learns_that_someone_else_changed_the_ticket(client, desk):
    client.force_login(desk.agent)
    url = reverse("tickets:version", args=[desk.ticket.number])
    seen = desk.ticket.version
    quiet = client.get(url, {"v": seen}).content.decode()
    assert "changed" not in quiet and 'hx-trigger="every 10s"' in quiet
    services.ticket_assign(actor=desk.lead, ticket=desk.ticket, team=desk.team, assignee=desk.lead)
    banner = client.get(url, {"v": seen}).content.decode()
    assert "changed by" in banner and str(desk.lead) in banner and "hx-trigger" not in banner


def test_an_agent_triages_assigns_replies_and_resolves(client, desk):
    client.force_login(desk.agent)
    number = desk.ticket.number
    response = client.post(
        reverse("tickets:assign", args=[number]),
        {"team": desk.team.pk, "assignee": desk.agent.pk, "version": desk.ticket.version},
    )
    assert response.status_code == 302
    client.post(reverse("tickets:reply", args=[number]), {"body": "Restart Outlook, please.", "public": "on"})
    client.post(reverse("tickets:reply", args=[number]), {"body": "Relay cert again?", "public": ""})
    client.post(reverse("tickets:worklog", args=[number]), {"minutes": "15", "note": "Checked the relay"})
    ticket = Ticket.objects.get(number=number)
    response = client.post(
        reverse("tickets:transition", args=[number]),
        {
            "to": "resolved",
            "resolution_code": "workaround",
            "resolution_notes": "Restarted",
            "version": ticket.version,
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.resolution_code) == (
        Status.RESOLVED,
        desk.agent,
        "workaround",
    )
    kinds = list(TimelineEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {EventKind.INTERNAL_NOTE, EventKind.WORKLOG, EventKind.ASSIGNMENT} <= set(kinds)


def test_a_transition_without_its_required_field_says_what_is_missing(client, desk):
    client.force_login(desk.agent)
    response = client.post(
        reverse("tickets:transition", args=[desk.ticket.number]),
        {"to": "resolved", "version": desk.ticket.version},
    )
    assert response.status_code == 400
    assert "resolution_code" in response.content.decode()


def test_the_page_offers_only_the_moves_the_workflow_allows(client, desk):
    client.force_login(desk.agent)
    moves = [move["to"] for move in client.get(_page(desk.ticket.number)).context["moves"]]
    assert moves == ["assigned", "in_progress", "pending", "resolved", "cancelled"]
    client.force_login(desk.requester)
    moves = [move["to"] for move in client.get(_page(desk.ticket.number)).context["moves"]]
    assert moves == ["cancelled"]


def test_assigning_to_someone_outside_the_team_is_refused(client, desk):
    client.force_login(desk.agent)
    response = client.post(
        reverse("tickets:assign", args=[desk.ticket.number]),
        {"team": desk.team.pk, "assignee": desk.auditor.pk, "version": desk.ticket.version},
    )
    assert response.status_code == 400
    assert "is not a member of" in response.content.decode()


def test_the_agent_drop_down_follows_the_team(client, desk):
    client.force_login(desk.agent)
    options = client.get(reverse("tickets:team_agents"), {"team": desk.team.pk}).content.decode()
    assert str(desk.agent) in options and str(desk.lead) in options and str(desk.auditor) not in options


def test_the_priority_follows_impact_and_urgency(client, desk):
    client.force_login(desk.agent)
    preview = client.get(reverse("tickets:priority_preview"), {"impact": 1, "urgency": 1}).content.decode()
    assert "P1" in preview


def test_merging_a_duplicate_from_its_page(client, desk):
    client.force_login(desk.agent)
    response = client.post(
        reverse("tickets:merge", args=[desk.other_ticket.number]),
        {"merge-number": desk.ticket.number.lower()},
    )
    assert response["Location"] == _page(desk.ticket.number)
    desk.other_ticket.refresh_from_db()
    assert desk.other_ticket.duplicate_of == desk.ticket
    assert desk.other_ticket.status == Status.RESOLVED
    merge_into_missing = client.post(
        reverse("tickets:merge", args=[desk.ticket.number]), {"merge-number": "INC0"}
    )
    assert merge_into_missing.status_code == 400


def test_parent_relation_and_problem_show_in_the_side_panel(client, desk):
    client.force_login(desk.agent)
    number = desk.ticket.number
    client.post(reverse("tickets:set_parent", args=[desk.other_ticket.number]), {"parent-number": number})
    client.post(reverse("tickets:link_problem", args=[number]), {"problem": desk.problem.number})
    third = services.ticket_create(actor=desk.requester, title="Calendar sync fails")
    client.post(reverse("tickets:relate", args=[number]), {"relate-number": third.number})
    context = client.get(_page(number)).context
    assert [child.number for child in context["children"]] == [desk.other_ticket.number]
    assert [item.number for item in context["relations"]] == [third.number]
    assert context["problem"] == desk.problem
    assert "Restart the mail client" in client.get(_page(number)).content.decode()


def test_known_errors_are_found_by_words_of_the_symptom(client, desk):
    client.force_login(desk.agent)
    url = reverse("tickets:known_errors", args=[desk.ticket.number])
    found = client.get(url, {"q": "mail relay"}, headers={"HX-Request": "true"})
    assert desk.problem.number in found.content.decode()
    assert "<html" not in found.content.decode()
    nothing = client.get(url, {"q": "printer toner"})
    assert desk.problem.number not in nothing.content.decode() and "<html" in nothing.content.decode()


def test_a_refused_file_comes_back_with_the_reason(client, desk):
    client.force_login(desk.requester)
    response = client.post(
        reverse("tickets:attach", args=[desk.ticket.number]),
        {"file": SimpleUploadedFile("shot.png", b"MZ\x90 not a picture"), "public": "on"},
    )
    assert response.status_code == 400
    assert "is not really a .png file" in response.content.decode()


# --- the requester --------------------------------------------------------------------------------
def test_a_requester_reports_a_problem_with_a_file(client, desk):
    client.force_login(desk.requester)
    response = client.post(
        reverse("tickets:create"),
        {
            "type": "incident",
            "service": desk.service.pk,
            "title": "VPN drops",
            "description": "Every 10 minutes.",
            "impact": "3",
            "urgency": "1",
            "attachment": SimpleUploadedFile("vpn.log", b"disconnect at 10:01"),
        },
    )
    ticket = Ticket.objects.get(title="VPN drops")
    assert response["Location"] == _page(ticket.number)
    assert (ticket.requester, ticket.service, ticket.priority) == (desk.requester, desk.service, 3)
    assert ticket.attachments.get().original_name == "vpn.log"


def test_a_bad_file_creates_no_ticket(client, desk):
    client.force_login(desk.requester)
    response = client.post(
        reverse("tickets:create"),
        {
            "type": "request",
            "title": "New laptop",
            "impact": "3",
            "urgency": "3",
            "attachment": SimpleUploadedFile("quote.pdf", b"not a pdf"),
        },
    )
    assert response.status_code == 400
    assert not Ticket.objects.filter(title="New laptop").exists()


def test_requesters_choose_among_catalogue_services_only(client, desk):
    from tests.portfolio.factories import ServiceFactory

    ServiceFactory(name="Core routers", type="technical")
    ServiceFactory(name="Future app", stage="pipeline")
    client.force_login(desk.requester)
    choices = [
        str(item) for item in client.get(reverse("tickets:create")).context["form"].fields["service"].queryset
    ]
    assert choices == ["Email"]


def test_a_requester_replies_cancels_and_rates(client, desk):
    client.force_login(desk.requester)
    number = desk.ticket.number
    client.post(reverse("tickets:reply", args=[number]), {"body": "Still down", "public": ""})
    reply = TimelineEvent.objects.filter(ticket=desk.ticket, body="Still down").get()
    assert reply.kind == EventKind.PUBLIC_REPLY  # a requester cannot write internal notes
    services.ticket_transition(
        actor=desk.agent, ticket=desk.ticket, to=Status.RESOLVED, resolution_code="solved"
    )
    page = client.get(_page(number))
    assert page.context["survey"] is not None and "How did we do?" in page.content.decode()
    response = client.post(
        reverse("tickets:rate", args=[number]), {"rating": "1", "comment": "No", "reopen": "on"}
    )
    assert response.status_code == 302
    desk.ticket.refresh_from_db()
    assert desk.ticket.status == Status.IN_PROGRESS and Survey.objects.get(ticket=desk.ticket).rating == 1


def test_one_click_rating_shows_on_get_and_records_on_post(client, desk):
    services.ticket_transition(
        actor=desk.agent, ticket=desk.ticket, to=Status.RESOLVED, resolution_code="solved"
    )
    survey = Survey.objects.get(ticket=desk.ticket)
    url = reverse("tickets:rate_link", args=[survey.token, 4])
    shown = client.get(url)
    assert shown.status_code == 200 and "4 out of 5" in shown.content.decode()
    survey.refresh_from_db()
    assert survey.answered_at is None  # a GET (a mail scanner) changes nothing
    recorded = client.post(url, {"comment": "Quick, thanks"})
    assert recorded.status_code == 200 and "Thank you" in recorded.content.decode()
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (4, "Quick, thanks")
    again = client.post(url, {"comment": "twice"})
    assert "already rated" in again.content.decode()
    survey.refresh_from_db()
    assert survey.comment == "Quick, thanks"


def test_one_click_rating_with_a_wrong_token_or_rating_is_not_found(client, desk):
    services.ticket_transition(
        actor=desk.agent, ticket=desk.ticket, to=Status.RESOLVED, resolution_code="solved"
    )
    survey = Survey.objects.get(ticket=desk.ticket)
    assert client.get(reverse("tickets:rate_link", args=["not-a-token", 4])).status_code == 404
    assert client.post(reverse("tickets:rate_link", args=["not-a-token", 4])).status_code == 404
    assert client.get(reverse("tickets:rate_link", args=[survey.token, 9])).status_code == 404


def test_a_low_one_click_rating_may_reopen(client, desk):
    services.ticket_transition(
        actor=desk.agent, ticket=desk.ticket, to=Status.RESOLVED, resolution_code="solved"
    )
    survey = Survey.objects.get(ticket=desk.ticket)
    client.post(reverse("tickets:rate_link", args=[survey.token, 2]), {"comment": "", "reopen": "on"})
    desk.ticket.refresh_from_db()
    assert desk.ticket.status == Status.IN_PROGRESS


# --- queues, saved views, bulk --------------------------------------------------------------------
def test_queues_hold_what_their_names_say(client, desk):
    mine = services.ticket_create(actor=desk.requester, title="Mine")
    services.ticket_assign(actor=desk.agent, ticket=mine, team=desk.team, assignee=desk.agent)
    client.force_login(desk.agent)

    def numbers(slug):
        return {
            ticket.number for ticket in client.get(reverse("tickets:queue", args=[slug])).context["tickets"]
        }

    assert numbers("mine") == {mine.number}
    assert numbers("team") == {mine.number}
    assert numbers("triage") == {desk.ticket.number, desk.other_ticket.number}


def test_queues_filter_search_and_sort(client, desk):
    client.force_login(desk.agent)
    url = reverse("tickets:queue", args=["all"])
    found = client.get(url, {"q": "printer"}).context["tickets"]
    assert [ticket.number for ticket in found] == [desk.other_ticket.number]
    by_service = client.get(url, {"service": desk.service.pk, "status": ""}).context["tickets"]
    assert [ticket.number for ticket in by_service] == [desk.ticket.number]
    ordered = client.get(url, {"sort": "-number"}).context["tickets"]
    assert [ticket.number for ticket in ordered] == sorted(
        (desk.ticket.number, desk.other_ticket.number), reverse=True
    )


def test_saved_views_keep_filters_columns_and_sort(client, desk):
    client.force_login(desk.agent)
    response = client.post(
        reverse("tickets:saved_view_create"),
        {"name": "Printers", "query": "q=&status=new&tag=", "cols": "number,title,bogus", "sort": "-updated"},
    )
    view = SavedView.objects.get(name="Printers")
    assert response["Location"] == reverse("tickets:saved_view", args=[view.pk])
    assert (view.filters, view.columns, view.sort, view.owner) == (
        {"status": ["new"]},
        ["number", "title"],
        "-updated",
        desk.agent,
    )
    context = client.get(response["Location"]).context
    assert context["columns"] == ["number", "title"]
    duplicate = client.post(
        reverse("tickets:saved_view_create"), {"name": "Printers", "query": ""}, follow=True
    )
    assert "already exists" in duplicate.content.decode()
    client.post(reverse("tickets:saved_view_delete", args=[view.pk]))
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_bulk_assignment_reports_each_refusal(client, desk):
    cancelled = services.ticket_create(actor=desk.requester, title="Never mind")
    services.ticket_transition(actor=desk.requester, ticket=cancelled, to=Status.CANCELLED)
    client.force_login(desk.agent)
    response = client.post(
        reverse("tickets:bulk"),
        {
            "tickets": [desk.ticket.number, desk.other_ticket.number, cancelled.number, "INC0000001"],
            "action": "assign",
            "team": desk.team.pk,
            "assignee": desk.lead.pk,
            "next": reverse("tickets:queue", args=["triage"]),
        },
        follow=True,
    )
    texts = [str(message) for message in response.context["messages"]]
    assert any("Done for 2 tickets" in text for text in texts)
    assert any(cancelled.number in text and "cannot be assigned" in text for text in texts)
    assert any("INC0000001: not found" in text for text in texts)
    assert set(Ticket.objects.filter(assignee=desk.lead).values_list("number", flat=True)) == {
        desk.ticket.number,
        desk.other_ticket.number,
    }


def test_bulk_status_priority_and_merge(client, desk):
    third = services.ticket_create(actor=desk.requester, title="Mail is down too")
    client.force_login(desk.agent)
    numbers = [desk.ticket.number, third.number]
    refused = client.post(
        reverse("tickets:bulk"), {"tickets": numbers, "action": "status", "status": "resolved"}, follow=True
    )
    assert sum("give resolution_code" in str(message) for message in refused.context["messages"]) == 2
    client.post(
        reverse("tickets:bulk"), {"tickets": numbers, "action": "priority", "impact": "1", "urgency": "1"}
    )
    assert set(Ticket.objects.filter(number__in=numbers).values_list("priority", flat=True)) == {1}
    client.post(reverse("tickets:bulk"), {"tickets": numbers, "action": "merge", "into": desk.ticket.number})
    third.refresh_from_db()
    assert third.duplicate_of == desk.ticket and third.status == Status.RESOLVED


def test_bulk_needs_what_the_action_needs(client, desk):
    client.force_login(desk.agent)
    response = client.post(
        reverse("tickets:bulk"), {"tickets": [desk.ticket.number], "action": "assign"}, follow=True
    )
    assert any("Choose the team" in str(message) for message in response.context["messages"])


# --- canned responses -------------------------------------------------------------------------------
def test_canned_responses_are_personal_or_shared_with_a_team(client, desk):
    client.force_login(desk.agent)
    client.post(
        reverse("tickets:cannedresponse_add"),
        {"title": "Restart", "body": "Please restart.", "team": desk.team.pk},
    )
    client.post(reverse("tickets:cannedresponse_add"), {"title": "Mine only", "body": "Just me."})
    shared, personal = (
        CannedResponse.objects.get(title="Restart"),
        CannedResponse.objects.get(title="Mine only"),
    )
    assert (shared.team, shared.owner, personal.team, personal.owner) == (desk.team, None, None, desk.agent)
    client.force_login(desk.lead)
    offered = {response.title for response in client.get(_page(desk.ticket.number)).context["canned"]}
    assert offered == {"Restart"}
