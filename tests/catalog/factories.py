"""Catalogue records for tests: an item on an offering, a category, an approval group, approval
steps, a fulfilment plan's task templates and teams of given agents."""

from __future__ import annotations

import factory

from opsdesk.accounts.models import Team
from opsdesk.catalog.choices import ApproverKind
from opsdesk.catalog.models import (
    ApprovalGroup,
    ApprovalStep,
    CatalogCategory,
    CatalogItem,
    TaskTemplate,
)
from tests.accounts.factories import TeamFactory, TeamMembershipFactory
from tests.portfolio.factories import OfferingFactory

# The issue's laptop: a model to choose, and a reason asked only for the performance model.
LAPTOP_FORM = [
    {
        "key": "model",
        "label": "Model",
        "type": "choice",
        "required": True,
        "choices": ["Standard 14-inch", "Performance 16-inch"],
    },
    {
        "key": "reason",
        "label": "Why the performance model?",
        "type": "long_text",
        "required": True,
        "show_if": {"field": "model", "in": ["Performance 16-inch"]},
    },
]


class CatalogCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogCategory

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class CatalogItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogItem

    offering = factory.SubFactory(OfferingFactory)
    category = factory.SubFactory(CatalogCategoryFactory)
    name = factory.Sequence(lambda n: f"Item {n}")
    slug = factory.Sequence(lambda n: f"item-{n}")
    summary = "Something people order"
    form = factory.LazyFunction(list)


class ApprovalGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalGroup
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Approvers {n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.set(extracted)


class ApprovalStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalStep

    item = factory.SubFactory(CatalogItemFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = ApproverKind.MANAGER
    required = 1


class TaskTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskTemplate

    item = factory.SubFactory(CatalogItemFactory)
    stage = 1
    name = factory.Sequence(lambda n: f"Task {n}")
    team = factory.SubFactory(TeamFactory)
    target_minutes = 480


def team_with(*agents) -> Team:
    """A team whose members are ``agents``."""
    team = TeamFactory()
    for agent in agents:
        TeamMembershipFactory(team=team, user=agent)
    return team
