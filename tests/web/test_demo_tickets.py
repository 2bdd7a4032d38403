"""The demo desk's loader, on a small scale: the invariants the real services keep hold for the
bulk-loaded history as well as for the recent tickets that go through the services."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.choices import Channel as AuditChannel
from opsdesk.core.models import AuditEntry
from opsdesk.tickets import services
from opsdesk.tickets.choices import OPEN_STATUSES, EventKind, ResolutionCode, Status
from opsdesk.tickets.models import Category, NumberSequence, PriorityRule, Survey, Ticket, TimelineEvent
from opsdesk.web.demo import people, tickets

SIZE = 300


@pytest.fixture
def desk(db):
    # An edited matrix cell: the loader must follow the database, not the default table.
    PriorityRule.objects.create(impact=3, urgency=3, priority=4)
    with acting(channel=AuditChannel.CLI):
        admin = people.load_admin()
        with acting(actor=admin):
            people.load_people(admin)
            added = tickets.load_tickets(admin, count=SIZE, days=60, service_days=5)
    return admin, added


def test_loads_the_tree_and_the_tickets(desk):
    _, added = desk
    assert added == Ticket.objects.count() >= SIZE
    assert Category.objects.filter(parent=None).count() == len(tickets.TREE)
    assert not Category.objects.filter(parent__parent__isnull=False).exists(), "two levels at most"
    statuses = Counter(Ticket.objects.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > SIZE / 2, statuses
    assert sum(statuses[status] for status in OPEN_STATUSES) > 0, statuses
    assert Ticket.objects.filter(is_major=True, children__isnull=False).exists()
    assert Survey.objects.filter(rating__isnull=False).exists()
    assert TimelineEvent.objects.filter(kind=EventKind.INTERNAL_NOTE).exists()
    assert TimelineEvent.objects.filter(kind=EventKind.PUBLIC_REPLY).exists()


def test_numbers_are_unique_and_the_sequence_continues_after_them(desk):
    assert not Ticket.objects.values("number").annotate(n=Count("id")).filter(n__gt=1).exists()
    last = dict(NumberSequence.objects.values_list("prefix", "last"))
    for number in Ticket.objects.values_list("number", flat=True):
        assert int(number[3:]) <= last[number[:3]], number
    # Numbers follow creation: the oldest ticket of each prefix has the lowest number.
    for prefix in ("INC", "REQ"):
        numbers = list(
            Ticket.objects.filter(number__startswith=prefix)
            .order_by("created_at")
            .values_list("number", flat=True)
        )
        assert numbers == sorted(numbers)
    admin, _ = desk
    fresh = services.ticket_create(actor=admin, requester=admin, title="After the demo")
    assert fresh.number == f"INC{last['INC'] + 1:07d}"


def test_every_ticket_has_a_created_event_and_a_consistent_timeline(desk):
    assert not Ticket.objects.exclude(events__kind=EventKind.CREATED).exists()
    assert not TimelineEvent.objects.filter(created_at__lt=F("ticket__created_at")).exists()
    assert not Ticket.objects.filter(resolved_at__lt=F("created_at")).exists()
    assert not Ticket.objects.filter(closed_at__lt=F("resolved_at")).exists()
    assert not Ticket.objects.filter(first_response_at__lt=F("created_at")).exists()
    assert not Ticket.objects.filter(status__in=(Status.RESOLVED, Status.CLOSED), resolved_at=None).exists()
    assert not Ticket.objects.filter(status=Status.CLOSED, closed_at=None).exists()
    assert not Ticket.objects.filter(status=Status.PENDING, pending_reason="").exists()
    # The last status change on the timeline is where the ticket stands.
    for ticket in Ticket.objects.exclude(status__in=(Status.NEW, Status.ASSIGNED)).order_by("?")[:100]:
        last = ticket.events.filter(kind=EventKind.STATUS).order_by("created_at", "id").last()
        assert last is not None and last.data["status"][1] == ticket.status, ticket.number
    # Every resolved ticket asked for a rating (but requests their approvers rejected); low
    # ratings are flagged.
    unrated = Ticket.objects.filter(resolved_at__isnull=False, survey__isnull=True)
    assert not unrated.exclude(resolution_code=ResolutionCode.REJECTED).exists()
    assert not Survey.objects.filter(rating__lte=2, needs_review=False).exists()


def test_priorities_follow_the_matrix(desk):
    for impact, urgency, priority in Ticket.objects.values_list("impact", "urgency", "priority").distinct():
        assert priority == services.priority_for(impact=impact, urgency=urgency), (impact, urgency)
    assert Ticket.objects.filter(impact=3, urgency=3, priority=4).exists()


def test_recent_tickets_went_through_the_services(desk):
    # The services write the audit trail; the bulk path does not.
    kind = ContentType.objects.get_for_model(Ticket)
    recent = [str(pk) for pk in Ticket.objects.order_by("-id").values_list("pk", flat=True)[:10]]
    oldest = [str(pk) for pk in Ticket.objects.order_by("id").values_list("pk", flat=True)[:10]]
    assert AuditEntry.objects.filter(content_type=kind, object_id__in=recent).count() >= 10
    assert not AuditEntry.objects.filter(content_type=kind, object_id__in=oldest).exists()


def test_demo_requesters_see_their_own_tickets(desk):
    for username in tickets.DEMO_REQUESTERS:
        user = User.objects.get(username=username)
        own = Ticket.objects.filter(requester=user)
        assert own.exists(), username
        visible = set(Ticket.objects.restrict(user, "view").values_list("pk", flat=True))
        assert set(own.values_list("pk", flat=True)) <= visible


def test_loading_twice_adds_nothing(desk):
    admin, _ = desk
    counts = (Ticket.objects.count(), TimelineEvent.objects.count(), User.objects.count())
    with acting(actor=admin):
        assert tickets.load_tickets(admin, count=SIZE) == 0
    assert (Ticket.objects.count(), TimelineEvent.objects.count(), User.objects.count()) == counts
