"""The condition rows of the rule editor, built from the condition registry.

Each row is a condition picked by its label, with one input per parameter the registry
declares. The input follows the hint the parameter's cleaner carries (``clean.input``): a list of
choices (``one_of``), a list of records (``existing_ids``), a whole number (``whole_number``),
words (``word_list``). A cleaner without a hint (another app's) gets a JSON input, so any
condition stays editable.
The registry's cleaners still judge every value when the service saves the rule; the errors
they report (``conditions[1].params.minutes``) land next to the input they name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

from opsdesk.tickets.choices import Channel, Priority, TicketType
from opsdesk.tickets.conditions import Condition, Param, get_condition, registered_conditions

# New rows offered below the rule's conditions; "Add a condition" adds one more.
BLANK_ROWS = 1
MAX_ROWS = 20
KNOWN_CHOICES = (TicketType, Channel, Priority)
PARAM_LABELS = {"in": "Any of", "any": "Words (separated by commas)", "minutes": "Minutes", "times": "Times"}
CONDITION_PATH = re.compile(r"^conditions\[(\d+)\](?:\.(name|params)(?:\.(\w+))?)?$")


@dataclass
class ParamInput:
    """One parameter's input: its kind decides the widget the template draws."""

    name: str
    kind: str  # choices | records | number | words | json
    required: bool
    options: list[tuple[str, str]] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)
    text: str = ""
    minimum: int | None = None
    maximum: int | None = None
    error: str = ""
    field_name: str = ""

    @property
    def label(self) -> str:
        return {
            "in": "Any of",
            "any": "Words (separated by commas)",
            "minutes": "Minutes",
            "times": "Times",
        }.get(self.name, self.name.replace("_", " ").capitalize())


@dataclass
class ConditionRow:
    index: int
    name: str = ""
    params: list[ParamInput] = field(default_factory=list)
    error: str = ""

    @property
    def prefix(self) -> str:
        return f"c-{self.index}"


def _spec(param: Param) -> tuple[str, dict[str, Any]]:
    """How to ask for a parameter: the hint its cleaner carries (conditions._with_input), or a
    JSON input for a cleaner another app registered without one."""
    return getattr(param.clean, "input", ("json", {}))


def _choice_labels(allowed: list[Any]) -> list[tuple[str, str]]:
    for choices in KNOWN_CHOICES:
        if set(allowed) <= set(choices.values):
            labels = dict(choices.choices)
            return [(str(value), str(labels[value])) for value in allowed]
    return [(str(value), str(value)) for value in allowed]


def _records(model_label: str, user: Any) -> list[tuple[str, str]]:
    model = apps.get_model(model_label)
    queryset = model._default_manager.all()
    if hasattr(queryset, "restrict"):
        queryset = queryset.restrict(user, "view")
    if model_label == "tickets.Category":
        queryset = queryset.select_related("parent")
    return [(str(row.pk), str(row)) for row in queryset]


def _input(
    condition: Condition, name: str, param: Param, user: Any, prefix: str, value: Any, options_cache: dict
) -> ParamInput:
    kind, spec = _spec(param)
    item = ParamInput(name=name, kind=kind, required=param.required, field_name=f"{prefix}-{name}")
    if kind == "choices":
        item.options = _choice_labels(spec["allowed"])
    elif kind == "records":
        label = spec["model_label"]
        if label not in options_cache:
            options_cache[label] = _records(label, user)
        item.options = options_cache[label]
    elif kind == "number":
        item.minimum, item.maximum = spec["minimum"], spec["maximum"]
    if value is None:
        return item
    if kind in ("choices", "records"):
        item.selected = [str(one) for one in value] if isinstance(value, list) else [str(value)]
    elif kind == "words":
        item.text = ", ".join(value) if isinstance(value, list) else str(value)
    elif kind == "json":
        item.text = value if isinstance(value, str) else json.dumps(value)
    else:
        item.text = str(value)
    return item


def _row(index: int, name: str, params: dict[str, Any], user: Any, cache: dict) -> ConditionRow:
    row = ConditionRow(index=index, name=name)
    found = get_condition(name) if name else None
    if found is None:
        if name:
            row.error = f"Unknown condition {name!r}: pick another."
        return row
    row.params = [
        _input(found, param_name, param, user, row.prefix, params.get(param_name), cache)
        for param_name, param in found.params.items()
    ]
    return row


def rows_from_conditions(conditions: list[dict], user: Any) -> list[ConditionRow]:
    """The rows of a saved rule, and a blank one to add a condition."""
    cache: dict = {}
    rows = [
        _row(index, item.get("name", ""), item.get("params") or {}, user, cache)
        for index, item in enumerate(conditions)
    ]
    rows.extend(_row(len(rows) + extra, "", {}, user, cache) for extra in range(BLANK_ROWS))
    return rows


def _posted_value(item: ParamInput, data: Any) -> Any:
    if item.kind in ("choices", "records"):
        return data.getlist(item.field_name)
    return data.get(item.field_name, "")


def rows_from_post(
    data: Any, user: Any, *, add: bool = False, remove: int | None = None
) -> list[ConditionRow]:
    """The rows as typed. ``add`` appends a blank row; ``remove`` drops the row at that index."""
    cache: dict = {}
    rows: list[ConditionRow] = []
    count = min(_int(data.get("condition_rows"), 0), MAX_ROWS)
    for index in range(count):
        if index == remove:
            continue
        name = data.get(f"c-{index}-name", "")
        found = get_condition(name) if name else None
        params: dict[str, Any] = {}
        if found is not None:
            for param_name, param in found.params.items():
                probe = ParamInput(
                    name=param_name, kind=_spec(param)[0], required=True, field_name=f"c-{index}-{param_name}"
                )
                params[param_name] = _posted_value(probe, data)
        # Rows are numbered afresh, so a removed row leaves no gap in the names.
        rows.append(_row(len(rows), name, params, user, cache))
    if add or not any(not row.name for row in rows):
        rows.append(_row(len(rows), "", {}, user, cache))
    return rows[:MAX_ROWS]


def _int(raw: Any, default: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def _convert(item: ParamInput, raw: Any) -> tuple[bool, Any]:
    """The posted value as the registry's cleaner expects it; (False, None) when left empty."""
    if item.kind in ("choices", "records"):
        values = [value for value in raw if value != ""]
        if not values:
            return False, None
        if item.kind == "records":
            return True, [_int(value, value) for value in values]
        # Priorities are numbers: give back the registry's own values, not their text.
        return True, [_int(value, value) if _numeric(item) else value for value in values]
    text = str(raw).strip()
    if not text:
        return False, None
    if item.kind == "number":
        return True, _int(text, text)
    if item.kind == "words":
        return True, [word.strip() for word in text.split(",") if word.strip()]
    try:
        return True, json.loads(text)
    except ValueError:
        return True, text


def _numeric(item: ParamInput) -> bool:
    return bool(item.options) and all(key.lstrip("-").isdigit() for key, _label in item.options)


def conditions_from_rows(rows: list[ConditionRow]) -> tuple[list[dict], list[int]]:
    """The conditions to save (rows without a condition are skipped), and which row each came from."""
    conditions, origins = [], []
    for row in rows:
        if not row.name:
            continue
        params = {}
        for item in row.params:
            present, value = _convert(
                item, item.selected if item.kind in ("choices", "records") else item.text
            )
            if present:
                params[item.name] = value
        conditions.append({"name": row.name, "params": params})
        origins.append(row.index)
    return conditions, origins


def place_error(rows: list[ConditionRow], origins: list[int], path: str, message: str) -> bool:
    """Put a ``conditions[i]…`` error on its row or input; False if the path is not a condition's."""
    match = CONDITION_PATH.match(path or "")
    if not match:
        return False
    position, part, param = int(match.group(1)), match.group(2), match.group(3)
    if position >= len(origins):
        return False
    row = next(row for row in rows if row.index == origins[position])
    target = next((item for item in row.params if item.name == param), None) if part == "params" else None
    if target is not None:
        target.error = message
    else:
        row.error = f"{param}: {message}" if param else message
    return True


def condition_choices() -> list[tuple[str, str]]:
    return [(item.name, item.label) for item in registered_conditions()]
