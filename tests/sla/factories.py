from __future__ import annotations

import factory

from opsdesk.sla.choices import Metric, PolicyKind
from opsdesk.sla.models import SlaPolicy, SlaTarget
from tests.portfolio.factories import CalendarFactory

ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    kind = PolicyKind.SLA
    calendar = factory.SubFactory(CalendarFactory, working_hours=ALWAYS, time_zone="UTC")


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaTarget

    policy = factory.SubFactory(PolicyFactory)
    metric = Metric.RESOLUTION
    minutes = 240


def policy_with_targets(**fields) -> SlaPolicy:
    """A 24×7 SLA: first response in 60 minutes, resolution in 240 (unless told otherwise)."""
    first, resolution = fields.pop("first_response", 60), fields.pop("resolution", 240)
    policy = PolicyFactory(**fields)
    if first:
        TargetFactory(policy=policy, metric=Metric.FIRST_RESPONSE, minutes=first)
    if resolution:
        TargetFactory(policy=policy, metric=Metric.RESOLUTION, minutes=resolution)
    return policy
