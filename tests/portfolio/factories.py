from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from opsdesk.portfolio.choices import Stage
from opsdesk.portfolio.models import (
    BusinessCalendar,
    BusinessObjective,
    Contract,
    Offering,
    Provider,
    Service,
)


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    time_zone = "Europe/Berlin"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    description = "Does something useful."
    stage = Stage.CATALOGUE


class OfferingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offering

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Offering {n}")
    cost = Decimal("40.00")
    price = Decimal("55.00")


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessObjective

    name = factory.Sequence(lambda n: f"Objective {n}")


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Provider {n}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    provider = factory.SubFactory(ProviderFactory)
    reference = factory.Sequence(lambda n: f"C-{n:04d}")
    start_date = date(2025, 1, 1)
    end_date = date(2027, 12, 31)
