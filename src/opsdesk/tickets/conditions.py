"""The conditions that routing and escalation rules are made of: a registry, name → test.

A rule stores its conditions as data, ``[{"name": "channel", "params": {"in": ["email"]}}]``;
every condition must hold for the rule to match. Each registered condition has

- ``test(ticket, params, now) -> bool``, the decision itself;
- a parameter schema (name → cleaner) that validates what an admin typed, so a rule with an
  unknown condition or a bad parameter is refused when it is saved, never when it runs;
- optionally ``candidates(params, now) -> Q``, a database filter that narrows the tickets a
  periodic sweep has to look at (it may match more than ``test``, never fewer).

Other apps add their own conditions from their ``AppConfig.ready()`` (the SLA app registers
``sla_breach_in_minutes``) without touching the engines that evaluate them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Q

from opsdesk.tickets.choices import OPEN_STATUSES, Channel, Priority, TicketType

MAX_MINUTES = 366 * 24 * 60
MAX_TIMES = 1000
MAX_WORDS = 50
MAX_WORD_LENGTH = 60

Test = Callable[[Any, dict, datetime], bool]
Candidates = Callable[[dict, datetime], Q]
Cleaner = Callable[[Any], Any]


class RuleDataError(ValueError):
    """A rule's conditions or actions are not valid; ``path`` names the offending part."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Param:
    """One parameter of a condition: ``clean`` returns the value to store or raises ValueError."""

    clean: Cleaner
    required: bool = True


@dataclass(frozen=True)
class Condition:
    name: str
    label: str
    test: Test
    params: dict[str, Param] = field(default_factory=dict)
    candidates: Candidates | None = None


_registry: dict[str, Condition] = {}


def register_condition(
    name: str,
    *,
    label: str,
    test: Test,
    params: dict[str, Param] | None = None,
    candidates: Candidates | None = None,
) -> Condition:
    """Add (or replace) the condition ``name``; returns it."""
    condition = Condition(name=name, label=label, test=test, params=params or {}, candidates=candidates)
    _registry[name] = condition
    return condition


def condition(
    name: str, *, label: str, params: dict[str, Param] | None = None, candidates: Candidates | None = None
) -> Callable[[Test], Test]:
    """Decorator form of ``register_condition``."""

    def decorate(test: Test) -> Test:
        register_condition(name, label=label, test=test, params=params, candidates=candidates)
        return test

    return decorate


def get_condition(name: str) -> Condition | None:
    return _registry.get(name)


def registered_conditions() -> list[Condition]:
    """Every condition an admin can pick, by label (for the rule editor)."""
    return sorted(_registry.values(), key=lambda item: item.label)


# --- validation ----------------------------------------------------------------------


def clean_conditions(raw: Any, *, path: str = "conditions") -> list[dict]:
    """Validate a rule's conditions; return them normalised or raise RuleDataError."""
    if not isinstance(raw, list):
        raise RuleDataError(path, "a list of conditions, each {name, params}")
    cleaned = []
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise RuleDataError(where, "each condition is {name, params}")
        found = _registry.get(item["name"])
        if found is None:
            known = ", ".join(sorted(_registry))
            raise RuleDataError(f"{where}.name", f"unknown condition {item['name']!r}; known: {known}")
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise RuleDataError(f"{where}.params", "parameters are an object")
        cleaned.append({"name": found.name, "params": _clean_params(found, params, f"{where}.params")})
    return cleaned


def _clean_params(found: Condition, params: dict, where: str) -> dict:
    unknown = sorted(set(params) - set(found.params))
    if unknown:
        raise RuleDataError(f"{where}.{unknown[0]}", f"{found.name} takes no parameter {unknown[0]!r}")
    cleaned = {}
    for name, param in found.params.items():
        if name not in params:
            if param.required:
                raise RuleDataError(f"{where}.{name}", "required")
            continue
        try:
            cleaned[name] = param.clean(params[name])
        except (TypeError, ValueError) as error:
            raise RuleDataError(f"{where}.{name}", str(error)) from error
    return cleaned


def whole_number(*, minimum: int = 1, maximum: int) -> Cleaner:
    def clean(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise ValueError(f"a whole number from {minimum} to {maximum}")
        return value

    return _with_input(clean, "number", minimum=minimum, maximum=maximum)


def one_of(values: Iterable[Any]) -> Cleaner:
    allowed = list(values)

    def clean(value: Any) -> list:
        if not isinstance(value, list) or not value or any(item not in allowed for item in value):
            raise ValueError(f"a non-empty list of: {', '.join(str(item) for item in allowed)}")
        return sorted(set(value), key=allowed.index)

    return _with_input(clean, "choices", allowed=allowed)


def existing_ids(model_label: str) -> Cleaner:
    """A list of primary keys of ``model_label`` rows that exist (checked when the rule is saved)."""

    def clean(value: Any) -> list[int]:
        if (
            not isinstance(value, list)
            or not value
            or any(isinstance(item, bool) or not isinstance(item, int) for item in value)
        ):
            raise ValueError("a non-empty list of ids")
        model = apps.get_model(model_label)
        found = set(model._default_manager.filter(pk__in=value).values_list("pk", flat=True))
        missing = sorted(set(value) - found)
        if missing:
            raise ValueError(f"no {model._meta.verbose_name} with id {missing[0]}")
        return sorted(set(value))

    return _with_input(clean, "records", model_label=model_label)


def _with_input(clean: Cleaner, kind: str, **options: Any) -> Cleaner:
    """Tell forms how to ask for this parameter (``clean.input == (kind, options)``): a rule
    editor draws checkboxes for "choices", a record picker for "records", a number for "number"."""
    clean.input = (kind, options)  # type: ignore[attr-defined]
    return clean


def word_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or any(not isinstance(item, str) for item in value):
        raise ValueError("a non-empty list of words")
    words = sorted({item.strip().lower() for item in value if item.strip()})
    if not words or len(words) > MAX_WORDS or any(len(word) > MAX_WORD_LENGTH for word in words):
        raise ValueError(f"1 to {MAX_WORDS} words of at most {MAX_WORD_LENGTH} characters")
    return words


word_list.input = ("words", {})  # type: ignore[attr-defined]


# --- evaluation ------------------------------------------------------------------------


def conditions_hold(conditions: list[dict], ticket: Any, now: datetime) -> bool:
    """Whether every condition holds for ``ticket`` at ``now``. Unknown names never hold, so a
    condition whose app was removed switches its rules off instead of firing them."""
    for item in conditions:
        found = _registry.get(item["name"])
        if found is None or not found.test(ticket, item.get("params") or {}, now):
            return False
    return True


def candidates_filter(conditions: list[dict], now: datetime) -> Q:
    """The database filter that narrows a sweep to tickets these conditions may match."""
    query = Q()
    for item in conditions:
        found = _registry.get(item["name"])
        if found is not None and found.candidates is not None:
            query &= found.candidates(item.get("params") or {}, now)
    return query


def _ago(now: datetime, minutes: int) -> datetime:
    return now - timedelta(minutes=minutes)


def _is_open(ticket: Any) -> bool:
    return ticket.status in OPEN_STATUSES


# --- the built-in conditions -----------------------------------------------------------

IDS_SERVICE = {"in": Param(existing_ids("portfolio.Service"))}
IDS_CATEGORY = {"in": Param(existing_ids("tickets.Category"))}
IDS_ORGANIZATION = {"in": Param(existing_ids("accounts.Organization"))}
MINUTES = {"minutes": Param(whole_number(minimum=0, maximum=MAX_MINUTES))}

register_condition(
    "ticket_type",
    label="Type is",
    params={"in": Param(one_of(TicketType.values))},
    test=lambda ticket, params, now: ticket.type in params["in"],
    candidates=lambda params, now: Q(type__in=params["in"]),
)
register_condition(
    "service",
    label="Service is",
    params=IDS_SERVICE,
    test=lambda ticket, params, now: ticket.service_id in params["in"],
    candidates=lambda params, now: Q(service_id__in=params["in"]),
)


@condition(
    "category",
    label="Category (or its subcategory) is",
    params=IDS_CATEGORY,
    candidates=lambda params, now: Q(category_id__in=params["in"]) | Q(category__parent_id__in=params["in"]),
)
def _category(ticket: Any, params: dict, now: datetime) -> bool:
    if ticket.category_id is None:
        return False
    return ticket.category_id in params["in"] or ticket.category.parent_id in params["in"]


register_condition(
    "organization",
    label="Organisation is",
    params=IDS_ORGANIZATION,
    test=lambda ticket, params, now: ticket.organization_id in params["in"],
    candidates=lambda params, now: Q(organization_id__in=params["in"]),
)


@condition(
    "vip_requester",
    label="Requester is a VIP (or from a VIP organisation)",
    candidates=lambda params, now: Q(requester__is_vip=True) | Q(organization__is_vip=True),
)
def _vip(ticket: Any, params: dict, now: datetime) -> bool:
    return bool(ticket.requester.is_vip or (ticket.organization_id and ticket.organization.is_vip))


register_condition(
    "channel",
    label="Arrived through",
    params={"in": Param(one_of(Channel.values))},
    test=lambda ticket, params, now: ticket.channel in params["in"],
    candidates=lambda params, now: Q(channel__in=params["in"]),
)
register_condition(
    "priority",
    label="Priority is",
    params={"in": Param(one_of(Priority.values))},
    test=lambda ticket, params, now: ticket.priority in params["in"],
    candidates=lambda params, now: Q(priority__in=params["in"]),
)


def _words_candidates(params: dict, now: datetime) -> Q:
    query = Q()
    for word in params["any"]:
        query |= Q(title__icontains=word) | Q(description__icontains=word)
    return query


@condition(
    "words",
    label="Title or description contains any of the words",
    params={"any": Param(word_list)},
    candidates=_words_candidates,
)
def _words(ticket: Any, params: dict, now: datetime) -> bool:
    text = f"{ticket.title}\n{ticket.description}".lower()
    return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) for word in params["any"])


@condition(
    "no_first_response_minutes",
    label="No first response after (minutes)",
    params=MINUTES,
    candidates=lambda params, now: Q(
        status__in=OPEN_STATUSES, first_response_at__isnull=True, created_at__lte=_ago(now, params["minutes"])
    ),
)
def _no_first_response(ticket: Any, params: dict, now: datetime) -> bool:
    return (
        _is_open(ticket)
        and ticket.first_response_at is None
        and ticket.created_at <= _ago(now, params["minutes"])
    )


@condition(
    "unresolved_minutes",
    label="Unresolved after (minutes)",
    params=MINUTES,
    candidates=lambda params, now: Q(status__in=OPEN_STATUSES, created_at__lte=_ago(now, params["minutes"])),
)
def _unresolved(ticket: Any, params: dict, now: datetime) -> bool:
    return _is_open(ticket) and ticket.created_at <= _ago(now, params["minutes"])


@condition(
    "reopened_times",
    label="Reopened at least (times)",
    params={"times": Param(whole_number(maximum=MAX_TIMES))},
    candidates=lambda params, now: Q(reopen_count__gte=params["times"]),
)
def _reopened(ticket: Any, params: dict, now: datetime) -> bool:
    return ticket.reopen_count >= params["times"]


@condition("major_incident", label="Is a major incident", candidates=lambda params, now: Q(is_major=True))
def _major(ticket: Any, params: dict, now: datetime) -> bool:
    return bool(ticket.is_major)
