"""Templates edited in the browser (checked, previewed, sandboxed) and each person's choices,
on the screens and in the API."""

from __future__ import annotations

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.notifications import rendering, selectors, services
from opsdesk.notifications.models import NotificationPreference, NotificationTemplate, OutboundMessage
from opsdesk.tickets import services as desk_services

pytestmark = pytest.mark.django_db

GOOD = {
    "subject": "Re: {{ ticket.title }}",
    "body_html": "<p>{{ actor.name }} says:</p>{{ reply.html }}",
    "body_text": "{{ actor.name }} says:\n{{ reply.text }}",
}


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN)


def test_a_template_with_a_syntax_error_is_refused_with_its_line(admin, client):
    with pytest.raises(ServiceError) as refused:
        services.template_save(
            actor=admin, event="reply", language="en", **{**GOOD, "body_text": "Hi\n{% if x %}\nno end"}
        )
    assert refused.value.field == "body_text" and "line 2" in refused.value.message
    assert "endif" in refused.value.message
    client.force_login(admin)
    page = client.post(
        "/notifications/templates/reply/en/",
        {**GOOD, "body_html": "<p>\n{{ ticket.title|nosuchfilter }}", "action": "save"},
    )
    assert page.status_code == 400
    assert "line 2" in page.content.decode() and "nosuchfilter" in page.content.decode()
    assert not NotificationTemplate.objects.exists()


def test_the_sandbox_offers_no_tag_that_reads_or_loads_anything(admin):
    for source in (
        "{% load static %}",
        "{% debug %}",
        "{% include 'web/base.html' %}",
        "{{ ticket.title|safe }}",
        "{% autoescape off %}{{ x }}{% endautoescape %}",
        "{% url 'notifications:preferences' %}",
    ):
        assert rendering.compile_problem(source, field="body_html", html=True) is not None, source


def test_values_are_escaped_in_html_and_the_subject_always_carries_the_ticket_tag(desk, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ticket = desk_services.ticket_create(
        actor=desk.alex, requester=desk.riley, title="<img src=x onerror=alert(1)>"
    )
    message = OutboundMessage.objects.none()
    event = ticket.events.get(kind="created")
    (pk,) = services.messages_prepare(event_id=event.pk)
    message = OutboundMessage.objects.get(pk=pk)
    assert "<img" not in message.body_html and "&lt;img" in message.body_html
    assert message.subject.startswith(f"[{ticket.number}] ")


def test_a_saved_template_is_used_and_restoring_brings_back_the_default(admin, desk, settings, client):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    saved = services.template_save(actor=admin, event="reply", language="en", **GOOD)
    assert saved.version == 1 and selectors.template_for("reply", "en")["subject"] == GOOD["subject"]
    ticket = desk_services.ticket_create(actor=desk.riley, title="Mouse")
    event = desk_services.ticket_reply(actor=desk.alex, ticket=ticket, body="New one is on its way")
    services.messages_prepare(event_id=event.pk)
    message = OutboundMessage.objects.get(event=event)
    assert message.subject == f"[{ticket.number}] Re: Mouse"  # the tag added in front
    assert "says:\nNew one is on its way" in message.body_text
    client.force_login(admin)
    assert client.post("/notifications/templates/reply/en/", {"action": "reset"}).status_code == 302
    assert not NotificationTemplate.objects.exists()
    assert "wrote on" in selectors.template_for("reply", "en")["body_text"]


def test_the_preview_renders_a_sample_ticket_without_saving(admin, client):
    client.force_login(admin)
    page = client.get("/notifications/templates/resolved/de/")
    assert page.status_code == 200 and "gelöst: VPN drops every few minutes" in page.content.decode()
    page = client.post("/notifications/templates/reply/en/", {**GOOD, "action": "preview"})
    body = page.content.decode()
    assert page.status_code == 200 and "[INC0001234] Re: VPN drops every few minutes" in body
    assert "<strong>software centre</strong>" in body
    assert not NotificationTemplate.objects.exists()


def test_managers_read_templates_but_only_administrators_change_them(make_user, client):
    manager = make_user(role=Role.MANAGER)
    with pytest.raises(NotAllowed):
        services.template_save(actor=manager, event="reply", language="en", **GOOD)
    client.force_login(manager)
    assert client.get("/notifications/templates/").status_code == 200
    assert client.post("/notifications/templates/reply/en/", {**GOOD, "action": "save"}).status_code == 403


def test_defaults_follow_the_role_and_each_person_changes_only_their_own(desk, client):
    assert selectors.preferences_for(desk.riley)["reply"] is True
    assert selectors.preferences_for(desk.alex)["status"] is False
    assert selectors.preferences_for(desk.alex)["assigned"] is True
    with pytest.raises(NotAllowed):
        services.preferences_save(actor=desk.alex, user=desk.riley, choices={"reply": False})
    with pytest.raises(ServiceError):
        services.preferences_save(actor=desk.riley, user=desk.riley, choices={"sla_warning": True})
    client.force_login(desk.riley)
    page = client.get("/notifications/")
    assert page.status_code == 200 and "Service level warning" not in page.content.decode()
    assert (
        client.post("/notifications/", {"created": "on", "status": "on", "resolved": "on"}).status_code == 302
    )
    assert dict(NotificationPreference.objects.filter(user=desk.riley).values_list("event", "enabled")) == {
        "created": True,
        "reply": False,
        "status": True,
        "resolved": True,
    }


def test_the_preferences_api_reads_and_writes_the_callers_own(desk, api_as):
    api = api_as(desk.riley)
    assert api.get("/api/v1/notification-preferences/").json() == {
        "created": True,
        "reply": True,
        "status": True,
        "resolved": True,
    }
    answer = api.put("/api/v1/notification-preferences/", {"reply": False}, format="json")
    assert answer.status_code == 200 and answer.json()["reply"] is False
    assert api.put("/api/v1/notification-preferences/", {"reply": "no"}, format="json").status_code == 400
    assert (
        api.put("/api/v1/notification-preferences/", {"sla_warning": True}, format="json").status_code == 400
    )
    assert api.put("/api/v1/notification-preferences/", {"spam": True}, format="json").status_code == 400
    assert selectors.preferences_for(desk.alex)["reply"] is True
    assert api_as(desk.alex).get("/api/v1/notification-preferences/").json()["sla_warning"] is True


def test_the_outbox_api_is_for_administrators_and_managers(desk, api_as, make_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ticket = desk_services.ticket_create(actor=desk.alex, requester=desk.riley, title="Badge")
    (pk,) = services.messages_prepare(event_id=ticket.events.get(kind="created").pk)
    for user in (desk.riley, desk.alex):
        assert api_as(user).get("/api/v1/outbound-messages/").status_code == 403
        assert api_as(user).post(f"/api/v1/outbound-messages/{pk}/retry/").status_code == 403
    manager = api_as(make_user(role=Role.MANAGER))
    listed = manager.get("/api/v1/outbound-messages/?status=queued").json()
    assert [row["id"] for row in listed["results"]] == [pk] and listed["results"][0][
        "ticket"
    ] == ticket.number
    assert manager.post(f"/api/v1/outbound-messages/{pk}/retry/").status_code == 200
    services.message_deliver(message_id=pk)
    assert manager.post(f"/api/v1/outbound-messages/{pk}/retry/").status_code == 400
    assert (
        api_as(make_user(role=Role.AUDITOR)).post(f"/api/v1/outbound-messages/{pk}/retry/").status_code == 403
    )
