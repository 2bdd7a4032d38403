"""Writes for the service portfolio. Each checks the actor's rights and the portfolio's
rules (no dependency cycles, the stage lifecycle, sensible weights, immutable published
policies) before it writes; every change lands in the audit trail."""

from __future__ import annotations

from collections import deque
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from opsdesk.accounts.models import User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.services import check_version, ensure_allowed, record_create, record_update
from opsdesk.core.uploads import check_upload
from opsdesk.portfolio.choices import STAGE_TRANSITIONS, EvaluationStatus, PolicyStatus, Stage
from opsdesk.portfolio.models import (
    EvaluationCandidate,
    EvaluationCriterion,
    EvaluationScore,
    Provider,
    Service,
    ServiceDependency,
    ServiceStageChange,
    SourcingEvaluation,
    SupportPolicy,
    SupportPolicyVersion,
)
from opsdesk.portfolio.models.sourcing import DEFAULT_CRITERIA, Contract, ContractDocument

STAGE_DATE_FIELD = {
    Stage.PIPELINE: "pipeline_at",
    Stage.CATALOGUE: "catalogue_at",
    Stage.RETIRED: "retired_at",
}


# --- services and their dependencies ---------------------------------------------------------
def dependency_cycle(*, service: Service, depends_on: list[Service]) -> list[str] | None:
    """The names along the cycle the new dependencies would close (service → … → service),
    or None when there is none."""
    if service.pk is None or not depends_on:
        return None
    upstream: dict[int, list[int]] = {}
    for source, target in ServiceDependency.objects.values_list("service_id", "depends_on_id"):
        upstream.setdefault(source, []).append(target)
    for start in depends_on:
        parents: dict[int, int | None] = {start.pk: None}
        queue = deque([start.pk])
        while queue:
            current = queue.popleft()
            if current == service.pk:
                path = [current]
                while parents[path[-1]] is not None:
                    path.append(parents[path[-1]])
                names = dict(Service.objects.filter(pk__in=path).values_list("pk", "name"))
                return [service.name, *(names[pk] for pk in reversed(path))]
            for next_pk in upstream.get(current, []):
                if next_pk not in parents:
                    parents[next_pk] = current
                    queue.append(next_pk)
    return None


def _set_dependencies(*, service: Service, depends_on: list[Service]) -> None:
    cycle = dependency_cycle(service=service, depends_on=depends_on)
    if cycle:
        path = " → ".join(cycle)
        raise ServiceError(
            f"That would make a dependency cycle: {path}.", code="dependency_cycle", field="depends_on"
        )
    wanted = {item.pk for item in depends_on}
    existing = {link.depends_on_id: link for link in service.dependency_links.all()}
    for pk, link in existing.items():
        if pk not in wanted:
            link.delete()
    for pk in wanted - set(existing):
        ServiceDependency.objects.create(service=service, depends_on_id=pk)


def service_create(
    *,
    actor: User,
    data: dict[str, Any],
    depends_on: list[Service] | None = None,
    escalation_teams: list | None = None,
) -> Service:
    """Create a service in its starting stage (pipeline by default), with its dependencies."""
    ensure_allowed(actor=actor, action="add", model=Service)
    data = dict(data)
    if "owner" not in data and actor.is_agent:
        data["owner"] = actor
    stage = data.setdefault("stage", Stage.PIPELINE)
    with transaction.atomic(), acting(actor=actor):
        service = Service(**data)
        setattr(
            service,
            STAGE_DATE_FIELD[stage],
            getattr(service, STAGE_DATE_FIELD[stage]) or timezone.localdate(),
        )
        service.full_clean()
        service.save()
        ServiceStageChange.objects.create(
            service=service, to_stage=stage, actor=actor, effective=getattr(service, STAGE_DATE_FIELD[stage])
        )
        _set_dependencies(service=service, depends_on=depends_on or [])
        if escalation_teams is not None:
            service.escalation_teams.set(escalation_teams)
        ensure_allowed(actor=actor, action="add", instance=service)
    return service


def service_update(
    *,
    actor: User,
    service: Service,
    data: dict[str, Any],
    expected_version: int | None = None,
    depends_on: list[Service] | None = None,
    escalation_teams: list | None = None,
) -> Service:
    """Change a service. Its stage changes only through ``service_change_stage``."""
    if "stage" in data and data["stage"] != service.stage:
        raise ServiceError(
            "Change the stage with the stage action, which keeps its history.",
            code="stage_via_transition",
            field="stage",
        )
    data = {key: value for key, value in data.items() if key != "stage"}
    ensure_allowed(actor=actor, action="change", instance=service)
    with transaction.atomic(), acting(actor=actor):
        check_version(instance=service, expected_version=expected_version)
        for name, value in data.items():
            setattr(service, name, value)
        service.full_clean()
        service.save()
        if depends_on is not None:
            _set_dependencies(service=service, depends_on=depends_on)
        if escalation_teams is not None:
            service.escalation_teams.set(escalation_teams)
    return service


def service_change_stage(
    *, actor: User, service: Service, to_stage: str, effective: date | None = None, note: str = ""
) -> Service:
    """Move a service through pipeline → catalogue → retired, keeping the dates and a history."""
    ensure_allowed(actor=actor, action="change", instance=service)
    allowed = STAGE_TRANSITIONS[Stage(service.stage)]
    if to_stage not in allowed:
        names = ", ".join(sorted(Stage(item).label for item in allowed)) or "none (retired is final)"
        raise ServiceError(
            f"A {Stage(service.stage).label.lower()} service cannot move to {to_stage}; allowed: {names}.",
            code="invalid_transition",
            field="stage",
        )
    effective = effective or timezone.localdate()
    with transaction.atomic(), acting(actor=actor):
        ServiceStageChange.objects.create(
            service=service,
            from_stage=service.stage,
            to_stage=to_stage,
            effective=effective,
            note=note,
            actor=actor,
        )
        service.stage = to_stage
        setattr(service, STAGE_DATE_FIELD[Stage(to_stage)], effective)
        service.save()
    return service


# --- contract documents --------------------------------------------------------------------------
def contract_document_add(*, actor: User, contract: Contract, upload: Any) -> ContractDocument:
    """Attach a document to a contract: an allowed type whose content matches, within the size limit."""
    ensure_allowed(actor=actor, action="change", instance=contract)
    checked = check_upload(upload)
    with transaction.atomic(), acting(actor=actor):
        document = ContractDocument(
            contract=contract,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=actor,
        )
        document.file.save(checked.name, upload, save=False)
        document.save()
    return document


# --- sourcing evaluations ----------------------------------------------------------------------
def _check_weights(weights: list[Decimal]) -> None:
    if any(weight < 0 for weight in weights):
        raise ServiceError("Weights cannot be negative.", code="invalid_weights", field="criteria")
    if not weights or sum(weights) == 0:
        raise ServiceError(
            "At least one criterion needs a weight above zero.", code="invalid_weights", field="criteria"
        )


def evaluation_create(
    *,
    actor: User,
    name: str,
    service: Service | None = None,
    description: str = "",
    providers: list[Provider] | None = None,
    criteria: list[tuple[str, Decimal]] | None = None,
) -> SourcingEvaluation:
    """Open an evaluation with its candidates and criteria (cost, quality, risk, strategic fit by default)."""
    criteria = list(criteria) if criteria is not None else list(DEFAULT_CRITERIA)
    _check_weights([Decimal(weight) for _, weight in criteria])
    with transaction.atomic():
        evaluation = record_create(
            model=SourcingEvaluation,
            actor=actor,
            data={"name": name, "service": service, "description": description},
        )
        with acting(actor=actor):
            for criterion_name, weight in criteria:
                EvaluationCriterion.objects.create(evaluation=evaluation, name=criterion_name, weight=weight)
            for provider in providers or []:
                EvaluationCandidate.objects.create(evaluation=evaluation, provider=provider)
    return evaluation


def _ensure_open(evaluation: SourcingEvaluation) -> None:
    if evaluation.status != EvaluationStatus.OPEN:
        raise ServiceError(
            "This evaluation is decided; open a new one to reconsider.", code="evaluation_decided"
        )


def evaluation_set_criteria(
    *, actor: User, evaluation: SourcingEvaluation, criteria: list[tuple[str, Decimal]]
) -> SourcingEvaluation:
    """Replace the criteria and weights; scores of kept criteria stay."""
    ensure_allowed(actor=actor, action="change", instance=evaluation)
    _ensure_open(evaluation)
    names = [name.strip() for name, _ in criteria]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise ServiceError(
            "Each criterion needs a name, and names must differ.", code="invalid_criteria", field="criteria"
        )
    _check_weights([Decimal(weight) for _, weight in criteria])
    with transaction.atomic(), acting(actor=actor):
        existing = {criterion.name: criterion for criterion in evaluation.criteria.all()}
        for name, criterion in existing.items():
            if name not in names:
                criterion.delete()
        for name, weight in zip(names, (weight for _, weight in criteria), strict=True):
            criterion = existing.get(name) or EvaluationCriterion(evaluation=evaluation, name=name)
            criterion.weight = Decimal(weight)
            criterion.full_clean()
            criterion.save()
    return evaluation


def evaluation_score(
    *, actor: User, candidate: EvaluationCandidate, criterion: EvaluationCriterion, score: Decimal
) -> EvaluationScore:
    """Score one candidate against one criterion, 0 to 10."""
    evaluation = candidate.evaluation
    ensure_allowed(actor=actor, action="change", instance=evaluation)
    _ensure_open(evaluation)
    if criterion.evaluation_id != evaluation.pk:
        raise ServiceError("That criterion belongs to another evaluation.", code="invalid", field="criterion")
    with transaction.atomic(), acting(actor=actor):
        entry = EvaluationScore.objects.filter(candidate=candidate, criterion=criterion).first()
        entry = entry or EvaluationScore(candidate=candidate, criterion=criterion)
        entry.score = Decimal(score)
        entry.full_clean()
        entry.save()
    return entry


def evaluation_decide(
    *, actor: User, evaluation: SourcingEvaluation, provider: Provider, reasons: str
) -> SourcingEvaluation:
    """Record the decision: which candidate was chosen and why."""
    ensure_allowed(actor=actor, action="change", instance=evaluation)
    _ensure_open(evaluation)
    if not evaluation.candidates.filter(provider=provider).exists():
        raise ServiceError(
            f"{provider} is not a candidate in this evaluation.", code="invalid", field="provider"
        )
    if not reasons.strip():
        raise ServiceError("Record the reasons for the decision.", code="required", field="reasons")
    with transaction.atomic(), acting(actor=actor):
        evaluation.status = EvaluationStatus.DECIDED
        evaluation.chosen_provider = provider
        evaluation.decision_reasons = reasons.strip()
        evaluation.decided_at = timezone.now()
        evaluation.decided_by = actor
        evaluation.save()
    return evaluation


# --- support policies ---------------------------------------------------------------------------
def policy_version_create(
    *, actor: User, policy: SupportPolicy, data: dict[str, Any]
) -> SupportPolicyVersion:
    """Draft the next version of a policy."""
    ensure_allowed(actor=actor, action="change", instance=policy)
    with transaction.atomic():
        latest = (
            SupportPolicyVersion.objects.select_for_update().filter(policy=policy).aggregate(n=Max("number"))
        )
        number = (latest["n"] or 0) + 1
        return record_create(
            model=SupportPolicyVersion,
            actor=actor,
            data={**data, "policy": policy, "number": number, "status": PolicyStatus.DRAFT},
        )


def policy_version_update(
    *, actor: User, version: SupportPolicyVersion, data: dict[str, Any], expected_version: int | None = None
) -> SupportPolicyVersion:
    if version.status == PolicyStatus.PUBLISHED:
        raise ServiceError(
            "A published version cannot change; draft a new version instead.", code="published_is_final"
        )
    data = {key: value for key, value in data.items() if key not in ("status", "number", "policy")}
    return record_update(instance=version, actor=actor, data=data, expected_version=expected_version)


def policy_version_publish(*, actor: User, version: SupportPolicyVersion) -> SupportPolicyVersion:
    """Publish a draft: requesters see it in the portal from its effective date."""
    if version.status == PolicyStatus.PUBLISHED:
        raise ServiceError("This version is already published.", code="already_published")
    return record_update(
        instance=version,
        actor=actor,
        data={"status": PolicyStatus.PUBLISHED, "published_at": timezone.now(), "published_by": actor},
    )
