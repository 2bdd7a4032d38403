"""The knowledge screens, the portal's deflection flow, the ticket page panel and the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opsdesk.knowledge import services
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import Article, Deflection, TicketArticle
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services.lifecycle import ticket_create
from opsdesk.tickets.services.problems import problem_create
from tests.knowledge.factories import make_article

pytestmark = pytest.mark.django_db


def test_agent_writes_edits_and_publishes_an_article_through_the_screens(client, people):
    client.force_login(people.agent)
    response = client.post(
        reverse("knowledge:add"),
        {
            "title": "Map a network drive",
            "body": "Open **Explorer**.",
            "audience": "public",
            "language": "en",
            "tags": "drives, Explorer",
            "note": "first",
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302 and article.tags == ["drives", "explorer"]
    response = client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {
            "title": "Map a network drive",
            "body": "Open **File Explorer**.",
            "audience": "public",
            "language": "en",
            "tags": "drives",
            "version": article.version,
            "note": "renamed app",
        },
    )
    assert response.status_code == 302
    moved = client.post(reverse("knowledge:transition", args=[article.pk]), {"to": "published"}, follow=True)
    assert "is now published" in moved.content.decode(), [str(m) for m in moved.context["messages"]]
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED and article.current_version == 2
    page = client.get(article.get_absolute_url()).content.decode()
    assert "<strong>File Explorer</strong>" in page and "Versions (2)" in page
    diff = client.get(reverse("knowledge:diff", args=[article.pk])).content.decode()
    assert "File Explorer" in diff and "kb-diff-changed" in diff
    unified = client.get(reverse("knowledge:diff", args=[article.pk]), {"format": "unified"}).content.decode()
    assert "+Open **File Explorer**." in unified
    client.post(reverse("knowledge:restore", args=[article.pk, 1]))
    article.refresh_from_db()
    assert article.body == "Open **Explorer**." and article.current_version == 3


def test_illegal_move_is_a_message_not_an_error(client, people):
    article = make_article(people.agent, status=ArticleStatus.DRAFT)
    client.force_login(people.agent)
    response = client.post(reverse("knowledge:transition", args=[article.pk]), {"to": "retired"}, follow=True)
    assert "cannot become retired" in response.content.decode()


def test_bad_diff_numbers_and_unknown_pages_are_handled(client, people):
    article = make_article(people.agent)
    client.force_login(people.agent)
    assert (
        client.get(reverse("knowledge:diff", args=[article.pk]), {"old": "x", "new": "99"}).status_code == 302
    )
    assert client.get(reverse("knowledge:detail", args=[999999])).status_code == 404
    client.force_login(people.requester)
    assert client.get(reverse("knowledge:versions", args=[article.pk])).status_code == 404
    assert client.get(reverse("knowledge:gaps")).status_code == 404
    assert client.get(reverse("knowledge:add")).status_code == 403


def test_images_are_served_inline_and_files_follow_the_article(client, people):
    article = make_article(people.agent)
    internal = make_article(people.agent, audience=Audience.INTERNAL)
    png = SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    image = services.article_attach(actor=people.agent, article=article, upload=png)
    hidden = services.article_attach(
        actor=people.agent, article=internal, upload=SimpleUploadedFile("a.txt", b"secret")
    )
    client.force_login(people.requester)
    response = client.get(image.get_absolute_url())
    assert response.status_code == 200 and "inline" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(hidden.get_absolute_url()).status_code == 404


def test_requester_deflects_a_ticket_in_the_portal(client, people):
    article = make_article(people.agent, title="Reset your password", body="Use self-service.")
    client.force_login(people.requester)
    form = client.get(reverse("tickets:create")).content.decode()
    assert 'id="kb-suggest"' in form and "knowledge/deflect.js" in form
    fragment = client.get(reverse("knowledge:suggest"), {"q": "forgot password"}).content.decode()
    assert "Reset your password" in fragment and "from=deflect" in fragment
    page = client.get(
        article.get_absolute_url(), {"from": "deflect", "q": "forgot password"}
    ).content.decode()
    assert "This solved my problem" in page
    response = client.post(
        reverse("knowledge:solved", args=[article.pk]), {"q": "forgot password"}, follow=True
    )
    assert "No ticket was raised" in response.content.decode()
    assert Deflection.objects.get().query == "forgot password"
    assert not Ticket.objects.exists()


def test_feedback_through_the_page_is_one_per_reader(client, people):
    article = make_article(people.agent)
    client.force_login(people.requester)
    client.post(reverse("knowledge:feedback", args=[article.pk]), {"helpful": "no", "comment": "meh"})
    client.post(reverse("knowledge:feedback", args=[article.pk]), {"helpful": "yes"})
    client.post(reverse("knowledge:feedback", args=[article.pk]), {"helpful": "maybe"})
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 0)


def test_ticket_pages_show_the_knowledge_panel(client, people):
    article = make_article(people.agent, title="Outlook does not start", body="Safe mode.")
    internal = make_article(
        people.agent, title="Outlook add-in runbook", audience=Audience.INTERNAL, body="x"
    )
    old = ticket_create(actor=people.requester, title="Outlook does not start at all")
    Ticket.objects.filter(pk=old.pk).update(status="closed")
    ticket = ticket_create(actor=people.requester, title="Outlook will not start")
    client.force_login(people.agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="knowledge"' in page and 'id="kb-panel-suggestions"' in page
    fragment = client.get(reverse("knowledge:suggest"), {"ticket": ticket.number}).content.decode()
    assert "Outlook does not start" in fragment and old.number in fragment
    assert 'name="csrfmiddlewaretoken"' in fragment
    response = client.post(
        reverse("knowledge:ticket_link", args=[ticket.number]), {"article": article.number}
    )
    assert response.status_code == 302
    client.post(reverse("knowledge:ticket_link", args=[ticket.number]), {"article": str(internal.pk)})
    client.post(reverse("knowledge:ticket_link", args=[ticket.number]), {"article": "not a number"})
    assert TicketArticle.objects.filter(ticket=ticket).count() == 2
    client.force_login(people.requester)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "Articles about this" in page and "Outlook does not start" in page
    assert "runbook" not in page and "Similar resolved" not in page and "kb-panel-suggestions" not in page
    assert client.get(reverse("knowledge:suggest"), {"ticket": ticket.number}).status_code == 404
    assert (
        client.post(reverse("knowledge:ticket_link", args=[ticket.number]), {"article": "1"}).status_code
        == 404
    )
    client.force_login(people.agent)
    assert client.get(reverse("knowledge:suggest"), {"ticket": "INC9999999"}).status_code == 404
    assert client.get(reverse("knowledge:suggest"), {"ticket": "x" * 5000}).status_code == 404


def test_known_errors_screen_publishes_in_one_click(client, people):
    problem = problem_create(
        actor=people.agent,
        title="Printer queue stuck",
        root_cause="A stuck job.",
        workaround="Restart the spooler.",
        known_error=True,
    )
    client.force_login(people.agent)
    assert "Publish as article" in client.get(reverse("knowledge:known_errors")).content.decode()
    response = client.post(
        reverse("knowledge:publish_known_error", args=[problem.pk]), {"audience": "public", "publish": "on"}
    )
    article = Article.objects.get(problem=problem)
    assert response.status_code == 302 and article.status == ArticleStatus.PUBLISHED
    again = client.post(
        reverse("knowledge:publish_known_error", args=[problem.pk]), {"audience": "public"}, follow=True
    )
    assert "already" in again.content.decode()


def test_gaps_and_needs_review_pages_render_with_bad_parameters(client, people):
    client.force_login(people.manager)
    assert client.get(reverse("knowledge:gaps"), {"days": "lots", "min": "-5"}).status_code == 200
    assert client.get(reverse("knowledge:needs_review")).status_code == 200
    assert (
        client.get(reverse("knowledge:list"), {"category": "x", "status": "nope", "page": "z"}).status_code
        == 200
    )


def test_api_lifecycle_versions_restore_and_feedback(api_as, people):
    api = api_as(people.agent)
    created = api.post(
        "/api/v1/articles/",
        {"title": "Badge access", "body": "Ask *Facilities*.", "audience": "public", "tags": ["badge"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["body_html"] == "<p>Ask <em>Facilities</em>.</p>"
    edited = api.patch(
        f"/api/v1/articles/{pk}/",
        {"body": "Ask reception.", "note": "simpler"},
        format="json",
        HTTP_IF_MATCH="*",
    )
    assert edited.status_code == 200 and edited.json()["current_version"] == 2
    bad = api.post(f"/api/v1/articles/{pk}/transition/", {"to": "retired"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "illegal_transition"
    assert (
        api.post(f"/api/v1/articles/{pk}/transition/", {"to": "published"}, format="json").status_code == 200
    )
    versions = api.get(f"/api/v1/articles/{pk}/versions/").json()
    assert [v["number"] for v in versions] == [2, 1]
    restored = api.post(f"/api/v1/articles/{pk}/restore/", {"version": 1}, format="json")
    assert restored.json()["body"] == "Ask *Facilities*."
    assert api.post(f"/api/v1/articles/{pk}/restore/", {"version": 9}, format="json").status_code == 400
    feedback = api_as(people.requester).post(
        f"/api/v1/articles/{pk}/feedback/", {"helpful": True}, format="json"
    )
    assert feedback.status_code == 200 and feedback.json()["helpful_count"] == 1
    wrong = api_as(people.requester).post(
        f"/api/v1/articles/{pk}/feedback/", {"helpful": "yes"}, format="json"
    )
    assert wrong.status_code == 400
    assert api.get("/api/v1/articles/", {"status": "nope"}).status_code == 400
    assert api.post("/api/v1/articles/", {"title": " "}, format="json").status_code == 400
