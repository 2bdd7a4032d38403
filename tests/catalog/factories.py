"""Catalogue records for tests: an item on an offering, a category, an approval group."""

from __future__ import annotations

import factory

from opsdesk.catalog.models import ApprovalGroup, CatalogCategory, CatalogItem
from tests.portfolio.factories import OfferingFactory


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

    name = factory.Sequence(lambda n: f"Approvers {n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.set(extracted)
