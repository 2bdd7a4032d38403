"""Reads of the portfolio, always restricted to what the reader may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from opsdesk.accounts.models import Location
from opsdesk.portfolio.choices import PERIODS_PER_YEAR, CostPeriod, PolicyStatus
from opsdesk.portfolio.models import (
    BusinessObjective,
    Contract,
    EvaluationCandidate,
    Offering,
    Service,
    ServiceDependency,
    ServiceLocation,
    ServiceObjective,
    SourcingEvaluation,
    SupportPolicy,
    SupportPolicyVersion,
)


def service_list_for(*, user: Any) -> QuerySet[Service]:
    return Service.objects.restrict(user, "view").select_related("owner", "service_hours")


def service_get_for(*, user: Any, pk: int, action: str = "view") -> Service:
    """The service if the user may ``action`` it; Service.DoesNotExist otherwise (forbidden looks missing)."""
    return service_list_for(user=user).restrict(user, action).get(pk=pk)


def service_sheet(*, user: Any, service: Service) -> dict[str, Any]:
    """Everything about one service on one screen, each part restricted for the reader."""
    offerings = Offering.objects.restrict(user, "view").filter(service=service).prefetch_related("locations")
    visible = Service.objects.restrict(user, "view")
    return {
        "service": service,
        "offerings": list(offerings),
        "depends_on": list(visible.filter(dependent_links__service=service)),
        "dependents": list(visible.filter(dependency_links__depends_on=service)),
        "support_tiers": list(service.support_tiers.restrict(user, "view").select_related("team")),
        "escalation_teams": list(service.escalation_teams.all()) if user.is_agent else [],
        "locations": list(
            service.delivery_locations.restrict(user, "view").select_related("location", "on_site_team")
        ),
        "objectives": list(service.objective_links.restrict(user, "view").select_related("objective")),
        "providers": list(service.providers.restrict(user, "view")),
        "contracts": list(service.contracts.restrict(user, "view").select_related("provider")),
        "policies": [
            (policy, policy_current_version(policy=policy))
            for policy in SupportPolicy.objects.restrict(user, "view").filter(services=service)
        ],
        "stage_history": list(service.stage_history.restrict(user, "view").select_related("actor")),
    }


@dataclass
class Graph:
    """Nodes and edges around one service: what it depends on (upstream) and what depends on it."""

    center: Service
    nodes: dict[int, Service] = field(default_factory=dict)
    edges: set[tuple[int, int]] = field(default_factory=set)
    depth: dict[int, int] = field(default_factory=dict)  # negative upstream, positive downstream


def dependency_graph(*, user: Any, service: Service, max_depth: int = 4) -> Graph:
    """The dependency neighbourhood of ``service`` up to ``max_depth`` hops each way, limited to
    services the user may see."""
    visible = dict(Service.objects.restrict(user, "view").values_list("pk", "name"))
    links = list(ServiceDependency.objects.values_list("service_id", "depends_on_id"))
    upstream, downstream = defaultdict(list), defaultdict(list)
    for source, target in links:
        if source in visible and target in visible:
            upstream[source].append(target)
            downstream[target].append(source)
    graph = Graph(center=service, depth={service.pk: 0})
    for direction, neighbours in ((-1, upstream), (1, downstream)):
        frontier = [service.pk]
        for level in range(1, max_depth + 1):
            following = []
            for pk in frontier:
                for other in neighbours[pk]:
                    graph.edges.add((pk, other) if direction < 0 else (other, pk))
                    if other not in graph.depth:
                        graph.depth[other] = direction * level
                        following.append(other)
            frontier = following
    graph.nodes = Service.objects.in_bulk(list(graph.depth))
    return graph


@dataclass
class Alignment:
    orphan_services: list[Service]
    unserved_objectives: list[BusinessObjective]
    by_objective: list[tuple[BusinessObjective, list[ServiceObjective]]]


def alignment_view(*, user: Any) -> Alignment:
    """Services serving no objective, objectives no service serves, and per objective the
    services that matter most (highest alignment, then most critical)."""
    services = Service.objects.restrict(user, "view").exclude(stage="retired")
    objectives = (
        BusinessObjective.objects.restrict(user, "view")
        .prefetch_related(
            Prefetch(
                "service_links",
                queryset=ServiceObjective.objects.select_related("service")
                .filter(service__in=services)
                .order_by("-alignment", "service__criticality", "service__name"),
            )
        )
        .annotate(served=Count("service_links", filter=Q(service_links__service__in=services)))
    )
    return Alignment(
        orphan_services=list(services.filter(objective_links__isnull=True).order_by("criticality", "name")),
        unserved_objectives=[objective for objective in objectives if objective.served == 0],
        by_objective=[
            (objective, list(objective.service_links.all())) for objective in objectives if objective.served
        ],
    )


def yearly(amount: Decimal, period: str) -> Decimal:
    per_year = PERIODS_PER_YEAR[CostPeriod(period)]
    return amount * per_year if per_year else amount


@dataclass
class CostLine:
    name: str
    yearly_cost: Decimal = Decimal("0")
    yearly_price: Decimal = Decimal("0")
    offerings: int = 0

    @property
    def margin(self) -> Decimal:
        return self.yearly_price - self.yearly_cost


def cost_view(*, user: Any) -> dict[str, list[CostLine]]:
    """Offerings' cost and price per year, summed per service and per location. An offering
    available everywhere counts once under "All locations"."""
    offerings = (
        Offering.objects.restrict(user, "view").select_related("service").prefetch_related("locations")
    )
    by_service: dict[str, CostLine] = {}
    by_location: dict[str, CostLine] = {}
    for offering in offerings:
        cost, price = yearly(offering.cost, offering.period), yearly(offering.price, offering.period)
        places = [location.name for location in offering.locations.all()] or ["All locations"]
        for key, bucket in [(offering.service.name, by_service), *((place, by_location) for place in places)]:
            line = bucket.setdefault(key, CostLine(name=key))
            line.yearly_cost += cost
            line.yearly_price += price
            line.offerings += 1
    return {
        "services": sorted(by_service.values(), key=lambda line: -line.yearly_cost),
        "locations": sorted(by_location.values(), key=lambda line: -line.yearly_cost),
    }


def policy_current_version(
    *, policy: SupportPolicy, today: date | None = None
) -> SupportPolicyVersion | None:
    """The published version in force: the latest effective one."""
    today = today or timezone.localdate()
    return (
        policy.versions.filter(status=PolicyStatus.PUBLISHED, effective_from__lte=today)
        .order_by("-effective_from", "-number")
        .first()
    )


def contracts_due_for_reminder(*, today: date) -> list[Contract]:
    """Contracts whose reminder window has opened, before their notice date, not yet reminded."""
    due = []
    for contract in Contract.objects.filter(end_date__gte=today).select_related("owner", "provider"):
        notice, reminder = contract.notice_date, contract.reminder_date
        if reminder <= today <= notice and contract.reminded_for_notice_date != notice:
            due.append(contract)
    return due


@dataclass
class RankedCandidate:
    candidate: EvaluationCandidate
    weighted_score: Decimal
    scored_criteria: int
    rank: int = 0


def evaluation_ranking(*, evaluation: SourcingEvaluation) -> list[RankedCandidate]:
    """Candidates ranked by weighted score: Σ(weight × score) / Σ(weight), on the 0–10 scale.
    A criterion not yet scored counts as 0, and the row says how many were scored."""
    criteria = {criterion.pk: criterion.weight for criterion in evaluation.criteria.all()}
    total_weight = sum(criteria.values()) or Decimal("1")
    ranked = []
    for candidate in evaluation.candidates.select_related("provider").prefetch_related("scores"):
        scores = {
            score.criterion_id: score.score
            for score in candidate.scores.all()
            if score.criterion_id in criteria
        }
        weighted = sum((criteria[pk] * value for pk, value in scores.items()), Decimal("0")) / total_weight
        ranked.append(
            RankedCandidate(
                candidate=candidate,
                weighted_score=weighted.quantize(Decimal("0.01")),
                scored_criteria=len(scores),
            )
        )
    ranked.sort(key=lambda row: (-row.weighted_score, row.candidate.provider.name))
    for position, row in enumerate(ranked, start=1):
        row.rank = position
    return ranked


def upcoming_notice_dates(*, user: Any, today: date, within_days: int = 180) -> list[Contract]:
    contracts = Contract.objects.restrict(user, "view").filter(end_date__gte=today).select_related("provider")
    return sorted(
        (contract for contract in contracts if (contract.notice_date - today).days <= within_days),
        key=lambda contract: contract.notice_date,
    )


def delivery_by_location(*, user: Any) -> list[tuple[Location, list[ServiceLocation]]]:
    """Each site with the services delivered there and how (on-site team or remote only)."""
    deliveries = (
        ServiceLocation.objects.restrict(user, "view")
        .filter(service__in=Service.objects.restrict(user))
        .select_related("service", "on_site_team")
        .order_by("service__name")
    )
    by_location: dict[int, list[ServiceLocation]] = defaultdict(list)
    for delivery in deliveries:
        by_location[delivery.location_id].append(delivery)
    return [
        (location, by_location.get(location.pk, []))
        for location in Location.objects.restrict(user, "view").order_by("name")
    ]
