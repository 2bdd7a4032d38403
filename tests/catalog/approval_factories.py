"""People and items for the approval tests: a requester with a manager (who has a manager
too), a fulfilment team with a lead, and items with the approval steps a test asks for."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from opsdesk.accounts.choices import Role
from opsdesk.catalog.choices import ApproverKind
from opsdesk.catalog.models import ApprovalStep, CatalogItem, CatalogRequest, TaskTemplate
from opsdesk.catalog.services.ordering import request_order
from tests.accounts.factories import OrganizationFactory, TeamFactory, TeamMembershipFactory, UserFactory
from tests.catalog.factories import LAPTOP_FORM, ApprovalGroupFactory, CatalogItemFactory


@dataclass
class People:
    requester: object
    manager: object
    director: object
    lead: object
    team: object
    organization: object

    def person(self, name: str, **fields):
        first, _, last = name.partition(" ")
        return UserFactory(first_name=first, last_name=last, organization=self.organization, **fields)


@pytest.fixture
def people(db) -> People:
    organization = OrganizationFactory(name="Acme")
    director = UserFactory(first_name="Dora", last_name="Director", organization=organization)
    manager = UserFactory(first_name="Mia", last_name="Manager", organization=organization, manager=director)
    requester = UserFactory(first_name="Ana", last_name="Lopez", organization=organization, manager=manager)
    lead = UserFactory(first_name="Lee", last_name="Lead", role=Role.AGENT, organization=organization)
    team = TeamFactory(name="Workplace", lead=lead)
    TeamMembershipFactory(team=team, user=lead)
    return People(requester, manager, director, lead, team, organization)


def make_item(people: People, *steps: dict, name: str = "New laptop", form=None) -> CatalogItem:
    """An item with a one-task plan and the given approval steps (dicts of ApprovalStep
    fields; ``position`` follows the order given)."""
    item = CatalogItemFactory(
        name=name,
        price=Decimal("1450.00"),
        form=LAPTOP_FORM if form is None else form,
        fulfilment_team=people.team,
        delivery_days=5,
    )
    for position, step in enumerate(steps, start=1):
        members = step.pop("members", None)
        if members is not None:
            step["group"] = ApprovalGroupFactory(members=members)
        ApprovalStep.objects.create(item=item, position=position, **step)
    TaskTemplate.objects.create(item=item, stage=1, name="Prepare the laptop", team=people.team)
    return item


def manager_step(**fields) -> dict:
    return {"kind": ApproverKind.MANAGER, "name": "Manager", **fields}


def person_step(person, **fields) -> dict:
    return {"kind": ApproverKind.PERSON, "person": person, "name": "Finance", **fields}


def group_step(members, required: int, **fields) -> dict:
    return {"kind": ApproverKind.GROUP, "members": members, "required": required, "name": "CAB", **fields}


def order(item: CatalogItem, person, **kwargs) -> CatalogRequest:
    answers = kwargs.pop("answers", {"model": "Standard 14-inch"})
    return request_order(actor=person, item=item, answers=answers, **kwargs)
