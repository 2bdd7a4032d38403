"""How a webhook's JSON payload becomes ticket fields.

A source keeps two small JSON documents:

- a *field map*, ticket field → path into the payload::

      {"title": "$.alert.name", "description": "$.alert.summary",
       "external_id": "$.alert.id", "impact": "$.severity", "status": "$.alert.state"}

- a *value map*, for the fields whose values are codes, raw value → our value::

      {"impact": {"critical": 1, "warning": 2, "info": 3},
       "status": {"resolved": "resolved", "firing": "open"}}

Paths are deliberately simple: ``$`` (the whole payload) followed by ``.key`` and ``[index]``
steps, e.g. ``$.alerts[0].labels.severity``. Keys are letters, digits, ``_`` and ``-``. Nothing
here touches the database: it is the part a sender's payload meets first, so it is pure and
tested on its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from opsdesk.webhooks.choices import STATUS_OPEN, STATUS_RESOLVED
from opsdesk.webhooks.constants import (
    MAX_DESCRIPTION_LENGTH,
    MAX_EXTERNAL_ID_LENGTH,
    MAX_PATH_LENGTH,
    MAX_PATH_SEGMENTS,
    MAX_TITLE_LENGTH,
    MAX_VALUE_MAP_ENTRIES,
)

MAPPED_FIELDS = ("title", "description", "external_id", "impact", "urgency", "status")
REQUIRED_FIELDS = ("title",)
VALUE_MAPPED_FIELDS = ("impact", "urgency", "status")
LEVEL_WORDS = {"high": 1, "medium": 2, "low": 3}
STATUS_VALUES = (STATUS_RESOLVED, STATUS_OPEN)

_STEP = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d{1,6})\]")
_MISSING = object()


class MappingError(ValueError):
    """A field map or value map that cannot work, with a message that says how to fix it."""


def parse_path(path: Any) -> list[str | int]:
    """``"$.alerts[0].name"`` → ``["alerts", 0, "name"]``; a clear MappingError otherwise."""
    if not isinstance(path, str):
        raise MappingError("A path is a string such as $.alert.name.")
    if len(path) > MAX_PATH_LENGTH:
        raise MappingError(f"A path has at most {MAX_PATH_LENGTH} characters.")
    if not path.startswith("$"):
        raise MappingError(f"{path!r} must start with $ (the payload), e.g. $.alert.name.")
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            raise MappingError(
                f"{path!r} is not understood from character {position + 1} ({path[position:][:20]!r}): "
                "use .key (letters, digits, _ and -) and [index] steps, e.g. $.alerts[0].name."
            )
        key, index = match.groups()
        steps.append(key if key is not None else int(index))
        position = match.end()
    if len(steps) > MAX_PATH_SEGMENTS:
        raise MappingError(f"{path!r} is deeper than {MAX_PATH_SEGMENTS} steps.")
    return steps


def field_map_errors(field_map: Any) -> list[str]:
    """Everything wrong with a field map, as sentences (empty when it is fine)."""
    if not isinstance(field_map, dict):
        return ['The field map is a JSON object such as {"title": "$.alert.name"}.']
    errors = []
    for name, path in field_map.items():
        if name not in MAPPED_FIELDS:
            errors.append(f"{name!r} is not a field a webhook can set; use: {', '.join(MAPPED_FIELDS)}.")
            continue
        try:
            parse_path(path)
        except MappingError as exc:
            errors.append(f"{name}: {exc}")
    for name in REQUIRED_FIELDS:
        if name not in field_map:
            errors.append(f'Map the {name}, e.g. "{name}": "$.alert.name".')
    return errors


def value_map_errors(value_map: Any) -> list[str]:
    """Everything wrong with a value map, as sentences (empty when it is fine)."""
    if not isinstance(value_map, dict):
        return ['The value map is a JSON object such as {"impact": {"critical": 1}}.']
    errors = []
    for name, table in value_map.items():
        if name not in VALUE_MAPPED_FIELDS:
            errors.append(f"{name!r} has no value map; only {', '.join(VALUE_MAPPED_FIELDS)} do.")
            continue
        if not isinstance(table, dict) or not table:
            errors.append(f'{name}: give an object of raw value → our value, e.g. {{"critical": 1}}.')
            continue
        if len(table) > MAX_VALUE_MAP_ENTRIES:
            errors.append(f"{name}: at most {MAX_VALUE_MAP_ENTRIES} values.")
        lowered = [str(key).strip().lower() for key in table]
        if len(set(lowered)) != len(lowered):
            errors.append(f"{name}: raw values are compared without case; two of them are the same.")
        for raw, ours in table.items():
            if name == "status":
                if ours not in STATUS_VALUES:
                    errors.append(f"status: {raw!r} must map to {' or '.join(map(repr, STATUS_VALUES))}.")
            elif isinstance(ours, bool) or ours not in (1, 2, 3):
                errors.append(f"{name}: {raw!r} must map to 1 (high), 2 (medium) or 3 (low).")
    return errors


def resolve(payload: Any, steps: list[str | int]) -> Any:
    """The value at ``steps`` in ``payload``, or None where the payload has nothing there."""
    value = payload
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
        elif not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


@dataclass
class Extracted:
    """The ticket fields a payload gives; None where it gives nothing usable."""

    title: str = ""
    description: str = ""
    external_id: str = ""
    impact: int | None = None
    urgency: int | None = None
    status: str | None = None
    warnings: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _clip(text: str, limit: int) -> str:
    text = text.replace("\x00", "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _identifier(text: str) -> str:
    # Cutting a long id could make two alerts one; a digest keeps them apart.
    text = text.replace("\x00", "").strip()
    if len(text) <= MAX_EXTERNAL_ID_LENGTH:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _lookup(table: dict, raw: Any) -> Any:
    wanted = _text(raw).strip().lower()
    for key, value in table.items():
        if str(key).strip().lower() == wanted:
            return value
    return _MISSING


def _level(name: str, raw: Any, table: dict | None, warnings: list[str]) -> int | None:
    if raw is None:
        return None
    if table is not None:
        value = _lookup(table, raw)
        if value is not _MISSING:
            return int(value)
    elif not isinstance(raw, bool) and isinstance(raw, int | str):
        text = str(raw).strip().lower()
        if text in ("1", "2", "3"):
            return int(text)
        if text in LEVEL_WORDS:
            return LEVEL_WORDS[text]
    warnings.append(f"The {name} {_clip(_text(raw), 50)!r} is not in the value map; the default was used.")
    return None


def _status(raw: Any, table: dict | None, warnings: list[str]) -> str | None:
    if raw is None:
        return None
    value = _lookup(table, raw) if table is not None else _text(raw).strip().lower()
    if value in STATUS_VALUES:
        return value
    warnings.append(
        f"The status {_clip(_text(raw), 50)!r} means neither resolved nor open; the ticket's status was kept."
    )
    return None


def extract(payload: Any, field_map: dict, value_map: dict) -> Extracted:
    """Apply a (validated) field map and value map to a payload."""
    raw = {name: resolve(payload, parse_path(path)) for name, path in field_map.items()}
    warnings: list[str] = []
    return Extracted(
        title=_clip(_text(raw.get("title")), MAX_TITLE_LENGTH),
        description=_clip(_text(raw.get("description")), MAX_DESCRIPTION_LENGTH),
        external_id=_identifier(_text(raw.get("external_id"))),
        impact=_level("impact", raw.get("impact"), value_map.get("impact"), warnings),
        urgency=_level("urgency", raw.get("urgency"), value_map.get("urgency"), warnings),
        status=_status(raw.get("status"), value_map.get("status"), warnings),
        warnings=warnings,
    )
