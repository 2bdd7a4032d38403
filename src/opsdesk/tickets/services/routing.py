"""The routing engine: admins' rules decide a new ticket's team, priority, category, tags and
assignee. Every decision lands in the timeline naming the rule that made it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from opsdesk.accounts.models import Team, User
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.services import ensure_allowed, record_create, record_update
from opsdesk.tickets.choices import OPEN_STATUSES, EventKind
from opsdesk.tickets.conditions import RuleDataError, clean_conditions, conditions_hold
from opsdesk.tickets.models import Category, RoutingRule, Ticket
from opsdesk.tickets.models.rules import clean_routing_actions
from opsdesk.tickets.services.assignment import apply_assignment, assignee_pick
from opsdesk.tickets.services.lifecycle import record_event

RULE_FIELDS = frozenset(
    {"name", "description", "position", "is_active", "conditions", "actions", "stop_processing"}
)


def routing_rule_save(
    *, actor: User, data: dict[str, Any], rule: RoutingRule | None = None, expected_version: int | None = None
) -> RoutingRule:
    """Create a routing rule, or change ``rule``. Conditions and actions are checked here:
    an unknown condition, a bad parameter, a missing team or an assignee outside the team is
    refused with the exact place (``conditions[1].params.minutes``, ``actions.assignee``)."""
    data = rule_fields_only(data, RULE_FIELDS)
    try:
        if "conditions" in data:
            data["conditions"] = clean_conditions(data["conditions"])
        if "actions" in data or rule is None:
            data["actions"] = clean_routing_actions(data.get("actions"))
    except RuleDataError as error:
        raise ServiceError(error.message, field=error.path) from error
    return rule_record_save(
        model=RoutingRule, actor=actor, instance=rule, data=data, expected_version=expected_version
    )


def rule_fields_only(data: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """A copy of ``data``, refusing any key that is not an editable field of the rule."""
    refused = sorted(set(data) - allowed)
    if refused:
        raise ServiceError(f"{refused[0]} is not a field of this rule.", field=refused[0])
    return dict(data)


def rule_record_save(
    *,
    model,
    actor: User,
    instance,
    data: dict[str, Any],
    expected_version: int | None,
    m2m: dict[str, Any] | None = None,
):
    """Create or update a rule record through the shared services; a model check becomes a
    ServiceError naming its field."""
    try:
        if instance is None:
            return record_create(model=model, actor=actor, data=data, m2m=m2m)
        return record_update(
            instance=instance, actor=actor, data=data, expected_version=expected_version, m2m=m2m
        )
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        raise ServiceError(messages[0], field=None if name == "__all__" else name) from error


def _active_rules() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(is_active=True).order_by("position", "id"))


def routing_apply(*, ticket: Ticket, actor: User | None, now: datetime | None = None) -> list[RoutingRule]:
    """Run the active rules on ``ticket`` in order and apply the actions of those that match.

    For the engines and services that already hold the ticket's transaction (``ticket_create``);
    no permission check. Returns the rules that matched.
    """
    now = now or timezone.now()
    matched = []
    for rule in _active_rules():
        if not conditions_hold(rule.conditions, ticket, now):
            continue
        matched.append(rule)
        changes, strategy = _apply_actions(ticket, rule.actions, now)
        if changes:
            ticket.save()
        record_event(
            ticket,
            EventKind.ROUTING,
            actor,
            body=f"Rule “{rule.name}” matched.",
            data={
                "rule": {"id": rule.pk, "name": rule.name},
                "changes": changes,
                **({"strategy": strategy} if strategy else {}),
            },
        )
        if rule.stop_processing:
            break
    return matched


def _apply_actions(ticket: Ticket, actions: dict[str, Any], now: datetime) -> tuple[dict[str, list], str]:
    changes: dict[str, list] = {}
    if "priority" in actions and ticket.priority != actions["priority"]:
        changes["priority"] = [ticket.priority, actions["priority"]]
        ticket.priority = actions["priority"]
    if "category" in actions and ticket.category_id != actions["category"]:
        changes["category"] = [ticket.category_id, actions["category"]]
        # The rule was checked when saved; a category deactivated since is still applied.
        ticket.category = Category.objects.get(pk=actions["category"])
    if "tags" in actions:
        tags = sorted(set(ticket.tags) | set(actions["tags"]))
        if tags != ticket.tags:
            changes["tags"] = [ticket.tags, tags]
            ticket.tags = tags
    strategy = ""
    if "team" in actions:
        team = Team.objects.get(pk=actions["team"])
        if "assignee" in actions:
            assignee = User.objects.filter(pk=actions["assignee"], team_memberships__team=team).first()
        else:
            # The category may just have changed above: the skills strategy reads the new one.
            assignee, strategy = assignee_pick(ticket=ticket, team=team, at=now)
        changes.update(apply_assignment(ticket=ticket, team=team, assignee=assignee, at=now))
    return changes, strategy


def ticket_route(*, actor: User, ticket: Ticket) -> list[RoutingRule]:
    """Run the routing rules again on an open ticket (agents), e.g. after its details changed."""
    ensure_allowed(actor=actor, action="change", instance=ticket)
    if not actor.is_agent:
        raise NotAllowed("Only the service desk routes tickets.")
    if ticket.status not in OPEN_STATUSES:
        raise ServiceError("Only open tickets are routed.", code="ticket_final", field="status")
    with transaction.atomic(), acting(actor=actor):
        return routing_apply(ticket=ticket, actor=actor)
