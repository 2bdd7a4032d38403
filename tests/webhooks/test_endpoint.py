"""The endpoint as a sender meets it: signatures, timestamps, delivery ids, bad bodies, and
what a delivery does to tickets (create, update by external id, resolve, reopen)."""

from __future__ import annotations

import json
import time

import pytest

from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.models import AuditEntry, SecurityEvent
from opsdesk.tickets.choices import Channel, EventKind, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.webhooks.choices import DeliveryAction, DeliveryStatus
from opsdesk.webhooks.constants import MAX_BODY_BYTES
from opsdesk.webhooks.models import WebhookDelivery
from opsdesk.webhooks.services import source_update
from tests.accounts.factories import TeamFactory
from tests.webhooks.conftest import alert, sign

pytestmark = pytest.mark.django_db


def problem_of(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


class TestSignature:
    def test_a_correctly_signed_delivery_raises_a_ticket_as_the_service_account(
        self, source_and_secret, post_delivery, bot
    ):
        source, secret = source_and_secret
        response = post_delivery(source, secret, alert("a-1"), delivery_id="d-1")
        assert response.status_code == 201
        body = response.json()
        ticket = Ticket.objects.get()
        assert body == {
            "delivery": "d-1",
            "status": "processed",
            "action": "created",
            "ticket": ticket.number,
            "warnings": [],
        }
        assert (ticket.title, ticket.requester, ticket.channel) == (
            "Disk full on db1",
            bot,
            Channel.MONITORING,
        )
        assert (ticket.impact, ticket.urgency, ticket.priority) == (1, 1, 1)
        assert "98 % full" in ticket.description
        # The audit trail says who (the service account) and how (webhook).
        entry = AuditEntry.objects.filter(object_id=str(ticket.pk), operation="create").first()
        assert entry is not None and (entry.actor, entry.channel) == (bot, "webhook")

    def test_a_wrong_signature_is_refused_recorded_and_logged_as_a_security_event(
        self, source_and_secret, post_delivery
    ):
        source, secret = source_and_secret
        response = post_delivery(source, secret, signature="sha256=" + "0" * 64, delivery_id="d-bad")
        assert response.status_code == 401
        assert problem_of(response)["code"] == "signature_invalid"
        assert not Ticket.objects.exists()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.signature_valid, delivery.payload) == (
            DeliveryStatus.REJECTED,
            False,
            None,
        )
        event = SecurityEvent.objects.get(kind=SecurityEventKind.TOKEN_REJECTED)
        assert event.detail == {"webhook_source": "alertmanager", "reason": "signature_invalid"}

    def test_a_signature_made_with_another_secret_is_refused(self, source_and_secret, post_delivery):
        source, _ = source_and_secret
        assert post_delivery(source, "not-the-secret").status_code == 401

    def test_a_missing_signature_is_refused(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        response = post_delivery(source, secret, signature="")
        assert response.status_code == 401
        assert problem_of(response)["code"] == "signature_missing"

    def test_a_signature_over_a_changed_body_is_refused(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        stamp = str(int(time.time()))
        signed = sign(secret, json.dumps(alert()).encode(), stamp)
        tampered = json.dumps(alert(severity="info")).encode()
        response = post_delivery(source, secret, body=tampered, timestamp=stamp, signature=signed)
        assert response.status_code == 401

    def test_the_timestamp_is_part_of_what_is_signed(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        body = json.dumps(alert()).encode()
        old_stamp, new_stamp = str(int(time.time()) - 10), str(int(time.time()))
        response = post_delivery(
            source, secret, body=body, timestamp=new_stamp, signature=sign(secret, body, old_stamp)
        )
        assert response.status_code == 401

    def test_a_timestamp_older_than_five_minutes_is_refused_as_a_replay(
        self, source_and_secret, post_delivery
    ):
        source, secret = source_and_secret
        response = post_delivery(source, secret, timestamp=str(int(time.time()) - 301))
        assert response.status_code == 401
        assert problem_of(response)["code"] == "timestamp_expired"
        delivery = WebhookDelivery.objects.get()
        assert delivery.signature_valid and delivery.status == DeliveryStatus.REJECTED
        assert not Ticket.objects.exists()

    def test_a_timestamp_far_in_the_future_is_refused(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        assert post_delivery(source, secret, timestamp=str(int(time.time()) + 600)).status_code == 401

    @pytest.mark.parametrize("stamp", ["yesterday", "１２３", "9" * 20, "-5"])
    def test_a_malformed_timestamp_is_refused(self, source_and_secret, post_delivery, stamp):
        source, secret = source_and_secret
        response = post_delivery(source, secret, timestamp=stamp)
        assert response.status_code == 401
        assert problem_of(response)["code"] == "timestamp_invalid"

    def test_a_source_requiring_timestamps_refuses_a_delivery_without_one(
        self, source_and_secret, post_delivery
    ):
        source, secret = source_and_secret
        response = post_delivery(source, secret, timestamp="")
        assert response.status_code == 401
        assert problem_of(response)["code"] == "timestamp_missing"

    def test_a_source_may_accept_deliveries_signed_over_the_body_alone(self, make_source, post_delivery):
        source, secret = make_source(require_timestamp=False)
        assert post_delivery(source, secret, timestamp="").status_code == 201

    def test_after_a_rotation_with_grace_both_secrets_work_and_without_only_the_new(
        self, source_and_secret, post_delivery, admin
    ):
        from opsdesk.webhooks.services import source_rotate_secret

        source, old = source_and_secret
        new = source_rotate_secret(actor=admin, source=source, keep_previous=True)
        assert post_delivery(source, old).status_code == 201
        assert post_delivery(source, new, alert("a-2")).status_code == 201
        newest = source_rotate_secret(actor=admin, source=source, keep_previous=False)
        assert post_delivery(source, new, alert("a-3")).status_code == 401
        assert post_delivery(source, newest, alert("a-3")).status_code == 201


class TestRequestShape:
    def test_an_unknown_source_is_not_found(self, source_and_secret, client):
        response = client.post("/webhooks/in/nobody/", data=b"{}", content_type="application/json")
        assert response.status_code == 404
        assert problem_of(response)["code"] == "not_found"

    def test_an_inactive_source_is_not_found_and_records_nothing(
        self, source_and_secret, post_delivery, admin
    ):
        source, secret = source_and_secret
        source_update(actor=admin, source=source, data={"is_active": False})
        assert post_delivery(source, secret).status_code == 404
        assert not WebhookDelivery.objects.exists()

    def test_only_post_is_accepted(self, source_and_secret, client):
        response = client.get("/webhooks/in/alertmanager/")
        assert response.status_code == 405 and response["Allow"] == "POST"

    def test_a_body_over_the_limit_is_refused_with_413(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        body = json.dumps({"alert": {"name": "x", "blob": "y" * MAX_BODY_BYTES}}).encode()
        response = post_delivery(source, secret, body=body)
        assert response.status_code == 413
        assert problem_of(response)["code"] == "too_large"
        assert WebhookDelivery.objects.get().body_bytes == len(body)

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
    )
    def test_anything_but_json_is_refused_with_415(self, source_and_secret, post_delivery, content_type):
        source, secret = source_and_secret
        response = post_delivery(source, secret, content_type=content_type)
        assert response.status_code == 415
        assert "application/json" in problem_of(response)["detail"]

    def test_json_with_a_charset_or_a_json_suffix_type_is_accepted(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        assert (
            post_delivery(source, secret, content_type="application/json; charset=utf-8").status_code == 201
        )
        assert (
            post_delivery(source, secret, alert("a-2"), content_type="application/vnd.alert+json").status_code
            == 201
        )

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            (b'{"alert": ', "not valid JSON"),
            (b"\xff\xfe{}", "not UTF-8"),
            (b'{"severity": NaN}', "NaN is not JSON"),
            (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ],
    )
    def test_a_body_that_is_not_json_gets_400_with_a_clear_message(
        self, source_and_secret, post_delivery, body, words
    ):
        source, secret = source_and_secret
        response = post_delivery(source, secret, body=body)
        assert response.status_code == 400
        problem = problem_of(response)
        assert problem["code"] == "invalid_json" and words in problem["detail"]
        assert WebhookDelivery.objects.get().status == DeliveryStatus.REJECTED

    @pytest.mark.parametrize(
        ("delivery_id", "code"), [("", "delivery_id_missing"), ("x" * 101, "delivery_id_invalid")]
    )
    def test_a_delivery_needs_an_id_of_at_most_100_characters(
        self, source_and_secret, post_delivery, delivery_id, code
    ):
        source, secret = source_and_secret
        response = post_delivery(source, secret, delivery_id=delivery_id)
        assert response.status_code == 400
        assert problem_of(response)["code"] == code

    def test_a_session_or_csrf_token_is_not_needed(self, source_and_secret, post_delivery, client):
        client.handler.enforce_csrf_checks = True
        source, secret = source_and_secret
        assert post_delivery(source, secret).status_code == 201


class TestIdempotency:
    def test_the_same_delivery_twice_makes_one_ticket_and_answers_the_original_result(
        self, source_and_secret, post_delivery
    ):
        source, secret = source_and_secret
        first = post_delivery(source, secret, alert("a-1"), delivery_id="same")
        second = post_delivery(source, secret, alert("a-1"), delivery_id="same")
        assert (first.status_code, second.status_code) == (201, 200)
        assert second.json() == {**first.json(), "duplicate": True}
        assert Ticket.objects.count() == 1
        statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))
        assert statuses == [DeliveryStatus.PROCESSED, DeliveryStatus.DUPLICATE]
        duplicate = WebhookDelivery.objects.get(status=DeliveryStatus.DUPLICATE)
        assert duplicate.duplicate_of.status == DeliveryStatus.PROCESSED

    def test_a_repeat_does_not_add_a_note_either(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        post_delivery(source, secret, alert("a-1"), delivery_id="d-1")
        for _ in range(3):
            post_delivery(source, secret, alert("a-1", severity="warning"), delivery_id="d-2")
        assert TimelineEvent.objects.filter(kind=EventKind.INTERNAL_NOTE).count() == 1

    def test_the_same_delivery_id_at_another_source_is_another_delivery(self, make_source, post_delivery):
        first, first_secret = make_source()
        second, second_secret = make_source(name="CI", slug="ci")
        assert post_delivery(first, first_secret, delivery_id="d-1").status_code == 201
        assert post_delivery(second, second_secret, delivery_id="d-1").status_code == 201
        assert Ticket.objects.count() == 2

    def test_a_refused_delivery_does_not_use_up_its_id(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        assert post_delivery(source, secret, delivery_id="d-1", signature="sha256=00").status_code == 401
        assert post_delivery(source, secret, delivery_id="d-1").status_code == 201


class TestCreateOrUpdate:
    def test_a_later_payload_with_the_same_external_id_adds_an_internal_note(
        self, source_and_secret, post_delivery
    ):
        source, secret = source_and_secret
        post_delivery(source, secret, alert("a-1"))
        later = alert("a-1")
        later["alert"]["summary"] = "/var is 99 % full now"
        response = post_delivery(source, secret, later)
        assert response.status_code == 200
        assert response.json()["action"] == "updated"
        ticket = Ticket.objects.get()
        note = TimelineEvent.objects.get(ticket=ticket, kind=EventKind.INTERNAL_NOTE)
        assert "99 % full now" in note.body

    def test_updates_may_be_public_replies(self, make_source, post_delivery):
        from opsdesk.webhooks.choices import UpdateVisibility

        source, secret = make_source(update_visibility=UpdateVisibility.PUBLIC)
        post_delivery(source, secret, alert("a-1"))
        post_delivery(source, secret, alert("a-1"))
        assert TimelineEvent.objects.filter(kind=EventKind.PUBLIC_REPLY).count() == 1

    def test_another_external_id_raises_another_ticket(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        post_delivery(source, secret, alert("a-1"))
        post_delivery(source, secret, alert("a-2"))
        assert Ticket.objects.count() == 2

    def test_a_resolved_status_resolves_the_ticket(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        post_delivery(source, secret, alert("a-1"))
        response = post_delivery(source, secret, alert("a-1", state="RESOLVED"))
        assert response.json()["action"] == DeliveryAction.RESOLVED
        ticket = Ticket.objects.get()
        assert (ticket.status, ticket.resolution_code) == (Status.RESOLVED, "solved")

    def test_firing_again_reopens_a_resolved_ticket(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        post_delivery(source, secret, alert("a-1"))
        post_delivery(source, secret, alert("a-1", state="resolved"))
        response = post_delivery(source, secret, alert("a-1", state="firing"))
        assert response.json()["action"] == DeliveryAction.REOPENED
        assert Ticket.objects.get().status == Status.IN_PROGRESS

    def test_a_closed_ticket_is_not_reused_a_new_one_is_raised(self, source_and_secret, post_delivery, bot):
        from opsdesk.tickets.services import ticket_transition

        source, secret = source_and_secret
        post_delivery(source, secret, alert("a-1"))
        post_delivery(source, secret, alert("a-1", state="resolved"))
        ticket_transition(actor=bot, ticket=Ticket.objects.get(), to=Status.CLOSED)
        response = post_delivery(source, secret, alert("a-1"))
        assert response.json()["action"] == "created"
        assert Ticket.objects.count() == 2

    def test_resolved_for_an_unknown_alert_does_nothing_and_says_so(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        response = post_delivery(source, secret, alert("never-seen", state="resolved"))
        assert response.status_code == 200
        assert response.json()["action"] == "ignored" and response.json()["warnings"]
        assert not Ticket.objects.exists()

    def test_an_unmapped_severity_uses_the_sources_default_and_warns(self, make_source, post_delivery):
        source, secret = make_source(impact=2, urgency=3)
        response = post_delivery(source, secret, alert(severity="apocalyptic"))
        assert response.status_code == 201
        assert any("apocalyptic" in warning for warning in response.json()["warnings"])
        ticket = Ticket.objects.get()
        assert (ticket.impact, ticket.urgency) == (2, 3)

    def test_the_default_team_gets_the_new_ticket(self, make_source, post_delivery, bot):
        from tests.accounts.factories import TeamMembershipFactory

        team = TeamFactory(name="Operations")
        TeamMembershipFactory(team=team, user=bot)
        source, secret = make_source(team=team)
        post_delivery(source, secret)
        ticket = Ticket.objects.get()
        assert (ticket.assigned_team, ticket.status) == (team, Status.ASSIGNED)

    def test_a_payload_without_the_mapped_title_fails_visibly_and_creates_nothing(
        self, source_and_secret, post_delivery
    ):
        source, secret = source_and_secret
        response = post_delivery(source, secret, {"alert": {"id": "a-1"}})
        assert response.status_code == 422
        assert "no title at $.alert.name" in problem_of(response)["detail"]
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.FAILED and delivery.payload == {"alert": {"id": "a-1"}}
        assert not Ticket.objects.exists()

    def test_a_deactivated_service_account_fails_the_delivery_with_a_clear_error(
        self, source_and_secret, post_delivery, bot
    ):
        source, secret = source_and_secret
        type(bot).objects.filter(pk=bot.pk).update(is_active=False)
        response = post_delivery(source, secret)
        assert response.status_code == 422
        assert "can no longer raise tickets" in problem_of(response)["detail"]

    def test_a_hostile_description_is_sanitized(self, source_and_secret, post_delivery):
        source, secret = source_and_secret
        payload = alert()
        payload["alert"]["summary"] = (
            '<script>alert(1)</script><img src=x onerror="alert(2)">[x](javascript:alert(3))'
        )
        post_delivery(source, secret, payload)
        html = Ticket.objects.get().description_html
        assert "<script" not in html and "onerror" not in html and "javascript:" not in html

    def test_a_failed_delivery_replayed_after_fixing_the_mapping_creates_the_ticket(
        self, source_and_secret, post_delivery, admin
    ):
        from opsdesk.webhooks.services import delivery_replay

        source, secret = source_and_secret
        post_delivery(source, secret, {"problem": {"title": "VPN down", "id": "p-1"}}, delivery_id="d-1")
        failed = WebhookDelivery.objects.get(status=DeliveryStatus.FAILED)
        source_update(
            actor=admin,
            source=source,
            data={"field_map": {"title": "$.problem.title", "external_id": "$.problem.id"}},
        )
        replay = delivery_replay(actor=admin, delivery=failed)
        assert (replay.status, replay.action, replay.replay_of) == (
            DeliveryStatus.PROCESSED,
            "created",
            failed,
        )
        assert replay.ticket.title == "VPN down"
        # The sender's own retry of that id is now a duplicate.
        retry = post_delivery(
            source, secret, {"problem": {"title": "VPN down", "id": "p-1"}}, delivery_id="d-1"
        )
        assert retry.status_code == 200 and retry.json()["duplicate"] is True
        assert Ticket.objects.count() == 1
