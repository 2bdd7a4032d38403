"""A requester's ticket search is scoped by the reader keys on the documents (requester,
watchers, organisation) rather than by the permission rule's list of ids: the two must always
agree, in results and in counts, as tickets are raised, watched, unwatched and moved, and as an
organisation starts or stops sharing its tickets."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from opsdesk.tickets import search_index
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_create
from tests import search_scope
from tests.accounts.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

WORD = "quasar"


@pytest.fixture(autouse=True)
def _tickets_registered():
    search_index.register()


def found(user) -> set[int]:
    return search_scope.found(user, kind="ticket", word=WORD)


def allowed(user) -> set[int]:
    return search_scope.allowed(user, Ticket, word=WORD)


@pytest.fixture
def desk(make_user):
    sharing = OrganizationFactory(requesters_see_organization=True)
    private = OrganizationFactory(requesters_see_organization=False)
    people = {
        "alice": make_user(organization=sharing),
        "bob": make_user(organization=sharing),
        "carol": make_user(organization=private),
        "dave": make_user(organization=private),
        "erin": make_user(),
    }
    tickets = {name: ticket_create(actor=user, title=f"{WORD} of {name}") for name, user in people.items()}
    return people, tickets, sharing, private


def assert_agree(people) -> None:
    for name, user in people.items():
        user.refresh_from_db()
        assert found(user) == allowed(user), name


def test_search_scope_is_the_permission_rule(desk):
    people, tickets, _, _ = desk
    assert_agree(people)
    # Spelled out once: Alice reads her organisation's tickets, Carol only her own.
    assert found(people["alice"]) == {tickets["alice"].pk, tickets["bob"].pk}
    assert found(people["carol"]) == {tickets["carol"].pk}


def test_watching_and_unwatching_change_what_is_found(desk):
    people, tickets, _, _ = desk
    tickets["dave"].watchers.add(people["carol"], people["erin"])
    assert tickets["dave"].pk in found(people["carol"]) and tickets["dave"].pk in found(people["erin"])
    assert_agree(people)

    tickets["dave"].watchers.remove(people["erin"])
    assert tickets["dave"].pk not in found(people["erin"])
    people["carol"].watched_tickets.clear()  # from the user's side
    assert tickets["dave"].pk not in found(people["carol"])
    people["erin"].watched_tickets.add(tickets["bob"])
    assert tickets["bob"].pk in found(people["erin"])
    assert_agree(people)


def test_an_organisation_that_stops_sharing_takes_its_tickets_out_of_results(desk):
    people, tickets, sharing, private = desk
    sharing.requesters_see_organization = False
    sharing.save()
    private.requesters_see_organization = True
    private.save()
    assert found(people["alice"]) == {tickets["alice"].pk}
    assert found(people["carol"]) == {tickets["carol"].pk, tickets["dave"].pk}
    assert_agree(people)


def test_a_ticket_moved_to_another_organisation_follows(desk):
    people, tickets, sharing, _ = desk
    moved = tickets["erin"]
    moved.organization = sharing
    moved.save()
    assert moved.pk in found(people["alice"])
    assert_agree(people)


def test_the_migration_fills_the_keys_of_existing_documents(desk):
    people, _, _, _ = desk
    empty = "'{}'" if connection.vendor == "postgresql" else "''"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE core_searchdocument SET readers = {empty} WHERE kind = 'ticket'")
    assert found(people["alice"]) == set()  # the keys are what the search goes by

    migration = importlib.import_module("opsdesk.tickets.migrations.0010_search_readers")
    with connection.cursor() as cursor:
        cursor.execute(migration.STATEMENTS[connection.vendor])
    assert_agree(people)
