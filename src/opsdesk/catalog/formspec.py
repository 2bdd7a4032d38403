"""An item's order form as data: checking a definition, cleaning the answers to it, and
showing the answers to people.

A definition is a JSON list of fields (see docs/catalog.md and ``FieldType``). Each field may be
conditional (``show_if``) on an EARLIER field only, so a definition never has cycles and the
visibility of every field follows from one pass in order. Everything here is pure checking and
formatting: nothing is written, and every refusal is a ``ServiceError`` naming the field.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from opsdesk.accounts.models import User
from opsdesk.catalog.choices import FieldType
from opsdesk.catalog.constants import MAX_CHOICES, MAX_FORM_FIELDS, MAX_KEY_LENGTH, MAX_TEXT_ANSWER
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.uploads import check_upload
from opsdesk.portfolio.choices import Stage
from opsdesk.portfolio.models import Service

KEY_PATTERN = re.compile(rf"^[a-z][a-z0-9_]{{0,{MAX_KEY_LENGTH - 1}}}\Z")
MAX_LABEL_LENGTH = 200
MAX_HELP_LENGTH = 500
MAX_PLACEHOLDER_LENGTH = 200
MAX_CHOICE_LENGTH = 200
# Keys the order form's page itself uses for other inputs: a field named so would clash.
RESERVED_KEYS = frozenset({"requested_for", "csrfmiddlewaretoken", "next"})
# Numbers beyond this lose precision in JSON (JavaScript's safe integer range).
MAX_ABS_NUMBER = 2**53

TEXT_TYPES = (FieldType.TEXT, FieldType.LONG_TEXT)
CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTI_CHOICE)
# A condition compares an earlier answer with listed values: only types whose answers are
# plain values people can list. Dates, people, services and files are not conditions.
CONDITION_TYPES = (*TEXT_TYPES, FieldType.NUMBER, *CHOICE_TYPES)

COMMON_PROPERTIES = frozenset({"key", "label", "type", "required", "help", "placeholder", "show_if"})
TYPE_PROPERTIES: dict[str, frozenset[str]] = {
    FieldType.TEXT: frozenset({"max_length"}),
    FieldType.LONG_TEXT: frozenset({"max_length"}),
    FieldType.NUMBER: frozenset({"min", "max", "integer"}),
    FieldType.CHOICE: frozenset({"choices"}),
    FieldType.MULTI_CHOICE: frozenset({"choices"}),
}

ATTACHMENT_NAME = "name"
ATTACHMENT_ID = "attachment"


# --- the definition ---------------------------------------------------------------------------


@dataclass
class _Seen:
    """What checking a definition has met so far: fields by key (a condition may only refer to
    these), keys of fields with problems, and every key of the definition (for messages)."""

    all_keys: set[str]
    earlier: dict[str, dict] = dc_field(default_factory=dict)
    broken: set[str] = dc_field(default_factory=set)


def form_validate(fields: Any) -> list[dict]:
    """The definition, normalised (stripped labels, defaults filled in), or ServiceError
    ``invalid_form`` listing every problem, each naming the field's position and key."""
    if fields is None:
        return []
    if not isinstance(fields, list):
        _refuse_form(["The form must be a list of fields."])
    if len(fields) > MAX_FORM_FIELDS:
        _refuse_form([f"A form has at most {MAX_FORM_FIELDS} fields; this one has {len(fields)}."])
    problems: list[str] = []
    normalised: list[dict] = []
    seen = _Seen(
        all_keys={raw.get("key") for raw in fields if isinstance(raw, dict) and _is_key(raw.get("key"))}
    )
    for position, raw in enumerate(fields, start=1):
        field, field_problems = _field_validate(position, raw, seen)
        problems.extend(field_problems)
        normalised.append(field)
        key = field["key"]
        if _is_key(key) and key not in seen.earlier:
            # A broken field still counts as earlier (so its dependants are not also reported as
            # referring to a missing field); conditions on it are then checked no further.
            seen.earlier[key] = field
            if field_problems:
                seen.broken.add(key)
    if problems:
        _refuse_form(problems)
    return normalised


def _refuse_form(problems: list[str]) -> None:
    message = (
        problems[0] if len(problems) == 1 else f"The form has {len(problems)} problems: " + " ".join(problems)
    )
    raise ServiceError(message, code="invalid_form", field="form", errors={"form": problems})


def _field_validate(position: int, raw: Any, seen: _Seen) -> tuple[dict, list[str]]:
    if not isinstance(raw, dict):
        problem = f"Field {position}: must be an object with a key, a label and a type."
        return {"key": None, "type": None}, [problem]
    key = raw.get("key")
    name = (
        f'Field {position} ("{key}")'
        if isinstance(key, str) and KEY_PATTERN.match(key)
        else f"Field {position}"
    )
    problems: list[str] = []

    def refuse(text: str) -> None:
        problems.append(f"{name}: {text}")

    if not isinstance(key, str) or not key:
        refuse("a key is required.")
    elif not KEY_PATTERN.match(key):
        refuse(
            f"the key {_shown(key)} must start with a lower-case letter and hold only lower-case letters, "
            f"digits and underscores, at most {MAX_KEY_LENGTH} characters."
        )
    elif key in RESERVED_KEYS:
        refuse(f'the key "{key}" is reserved by the order page; choose another.')
    elif key in seen.earlier:
        refuse(f'the key "{key}" is already used by an earlier field; keys must be unique.')

    field_type = raw.get("type")
    if field_type not in FieldType.values:
        refuse(f"the type {_shown(field_type)} is unknown; use one of {', '.join(FieldType.values)}.")
        field_type = None

    label = raw.get("label")
    if not isinstance(label, str) or not _clean_line(label):
        refuse("a label is required.")
    elif len(_clean_line(label)) > MAX_LABEL_LENGTH:
        refuse(f"the label may be at most {MAX_LABEL_LENGTH} characters.")

    allowed = COMMON_PROPERTIES | TYPE_PROPERTIES.get(field_type or "", frozenset())
    unknown = sorted(str(prop) for prop in raw if prop not in allowed)
    if unknown and field_type is not None:
        refuse(
            f"{', '.join(unknown)} {'does' if len(unknown) == 1 else 'do'} not apply to a {field_type} field."
        )

    field: dict[str, Any] = {
        "key": key,
        "label": _clean_line(label) if isinstance(label, str) else "",
        "type": field_type,
        "required": False,
        "help": "",
    }
    required = raw.get("required", False)
    if not isinstance(required, bool):
        refuse("required must be true or false.")
    else:
        field["required"] = required
    for prop, limit in (("help", MAX_HELP_LENGTH), ("placeholder", MAX_PLACEHOLDER_LENGTH)):
        value = raw.get(prop)
        if value is None:
            continue
        if not isinstance(value, str):
            refuse(f"{prop} must be text.")
        elif len(value.strip()) > limit:
            refuse(f"{prop} may be at most {limit} characters.")
        elif value.strip():
            field[prop] = _strip_nul(value).strip()

    if field_type in TEXT_TYPES:
        _text_properties(raw, field, refuse)
    elif field_type == FieldType.NUMBER:
        _number_properties(raw, field, refuse)
    elif field_type in CHOICE_TYPES:
        _choice_properties(raw, field, refuse)

    if "show_if" in raw:
        _condition_validate(raw["show_if"], field, seen, refuse)
    return field, problems


def _text_properties(raw: dict, field: dict, refuse) -> None:
    if "max_length" not in raw:
        return
    max_length = raw["max_length"]
    if not _is_int(max_length) or not 1 <= max_length <= MAX_TEXT_ANSWER:
        refuse(f"max_length must be a whole number from 1 to {MAX_TEXT_ANSWER}.")
    else:
        field["max_length"] = max_length


def _number_properties(raw: dict, field: dict, refuse) -> None:
    integer = raw.get("integer", False)
    if not isinstance(integer, bool):
        refuse("integer must be true or false.")
        integer = False
    field["integer"] = integer
    bounds = {}
    for prop in ("min", "max"):
        if prop not in raw or raw[prop] is None:
            continue
        value = raw[prop]
        if not _is_number(value):
            refuse(f"{prop} must be a number.")
        elif integer and value != int(value):
            refuse(f"{prop} must be a whole number, as the answer is.")
        else:
            bounds[prop] = int(value) if integer or isinstance(value, int) else value
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        refuse(f"min ({bounds['min']}) is greater than max ({bounds['max']}).")
    field.update(bounds)


def _choice_properties(raw: dict, field: dict, refuse) -> None:
    choices = raw.get("choices")
    if not isinstance(choices, list) or not choices:
        refuse("choices must be a non-empty list of texts.")
        return
    if len(choices) > MAX_CHOICES:
        refuse(f"at most {MAX_CHOICES} choices; this field has {len(choices)}.")
        return
    cleaned: list[str] = []
    for index, choice in enumerate(choices, start=1):
        text = _clean_line(choice) if isinstance(choice, str) else ""
        if not text:
            refuse(f"choice {index} must be a non-empty text.")
        elif len(text) > MAX_CHOICE_LENGTH:
            refuse(f"choice {index} may be at most {MAX_CHOICE_LENGTH} characters.")
        elif text in cleaned:
            refuse(f'the choice "{text}" is listed twice.')
        else:
            cleaned.append(text)
    field["choices"] = cleaned


def _condition_validate(condition: Any, field: dict, seen: _Seen, refuse) -> None:
    if not isinstance(condition, dict) or set(condition) != {"field", "in"}:
        refuse('show_if must be {"field": <an earlier key>, "in": [values]}.')
        return
    target_key, values = condition["field"], condition["in"]
    target = seen.earlier.get(target_key) if isinstance(target_key, str) else None
    if target is None:
        after = " (it comes after this one)" if target_key in seen.all_keys else ""
        refuse(f"show_if refers to {_shown(target_key)}, which is not an earlier field{after}.")
        return
    if target_key in seen.broken:
        field["show_if"] = {"field": target_key, "in": values}
        return
    if target["type"] not in CONDITION_TYPES:
        refuse(
            f'show_if refers to "{target_key}", a {target["type"]} field; conditions may only '
            f"test {', '.join(CONDITION_TYPES)} fields."
        )
        return
    if not isinstance(values, list) or not values:
        refuse("show_if's in must be a non-empty list of values.")
        return
    if len(values) > MAX_CHOICES:
        refuse(f"show_if lists at most {MAX_CHOICES} values.")
        return
    cleaned: list[Any] = []
    for value in values:
        if target["type"] == FieldType.NUMBER:
            if not _is_number(value):
                refuse(
                    f'show_if compares the number field "{target_key}" with {_shown(value)}, '
                    "which is not a number."
                )
                return
        elif not isinstance(value, str):
            refuse(f'show_if compares "{target_key}" with {_shown(value)}, which is not a text.')
            return
        else:
            value = _clean_line(value)
            if target["type"] in CHOICE_TYPES and value not in target["choices"]:
                refuse(f'show_if lists "{value}", which is not one of the choices of "{target_key}".')
                return
        if value not in cleaned:
            cleaned.append(value)
    field["show_if"] = {"field": target_key, "in": cleaned}


# --- answers ----------------------------------------------------------------------------------


def answers_clean(
    form: list[dict], data: Mapping, files: Mapping[str, Any] | None, *, requester: User
) -> tuple[dict, dict[str, Any]]:
    """The answers checked and normalised against the definition, and the uploaded files to
    store by key; or ServiceError ``invalid_answers`` with the messages by key.

    Hidden fields (their condition not met) are dropped, and only visible required fields
    must be answered. Unknown keys are refused: a typo would otherwise lose an answer silently.
    """
    fields = form_validate(form)
    files = files or {}
    if not isinstance(data, Mapping):
        raise ServiceError(
            "The answers must be an object of field keys and values.",
            code="invalid_answers",
            field="answers",
            errors={"answers": ["The answers must be an object of field keys and values."]},
        )
    by_key = {field["key"]: field for field in fields}
    errors: dict[str, list[str]] = {}
    for key in list(data) + [key for key in files if key not in data]:
        if key not in by_key:
            errors.setdefault(str(key), []).append(f"There is no field {_shown(key)} in this form.")
        elif key in files and by_key[key]["type"] != FieldType.ATTACHMENT:
            errors.setdefault(key, []).append("This field takes a value, not a file.")

    answers: dict[str, Any] = {}
    uploads: dict[str, Any] = {}
    for field in fields:
        key = field["key"]
        if not _condition_met(field, answers):
            continue
        if key in errors:
            continue
        try:
            if field["type"] == FieldType.ATTACHMENT:
                upload = _attachment_clean(field, data.get(key), files.get(key))
                if upload is not None:
                    uploads[key] = upload
                    continue
                value = None
            else:
                value = _value_clean(field, data.get(key), requester=requester)
        except _AnswerError as exc:
            errors.setdefault(key, []).append(str(exc))
            continue
        if value is None:
            if field["required"]:
                errors.setdefault(key, []).append(f'"{field["label"]}" is required.')
            continue
        answers[key] = value
    if errors:
        first = next(iter(errors.values()))[0]
        message = first if len(errors) == 1 else f"{len(errors)} answers need attention. {first}"
        raise ServiceError(message, code="invalid_answers", field="answers", errors=errors)
    return answers, uploads


class _AnswerError(Exception):
    pass


def _value_clean(field: dict, value: Any, *, requester: User) -> Any:
    """The normalised answer, None when unanswered, or _AnswerError."""
    if value is None or (isinstance(value, str) and not _strip_nul(value).strip()) or value == []:
        return None
    field_type = field["type"]
    if field_type in TEXT_TYPES:
        return _text_clean(field, value)
    if field_type == FieldType.NUMBER:
        return _number_clean(field, value)
    if field_type == FieldType.CHOICE:
        if not isinstance(value, str) or _clean_line(value) not in field["choices"]:
            raise _AnswerError(f"{_shown(value)} is not one of the choices.")
        return _clean_line(value)
    if field_type == FieldType.MULTI_CHOICE:
        return _multi_choice_clean(field, value)
    if field_type == FieldType.DATE:
        return _date_clean(value)
    if field_type == FieldType.USER:
        return _user_clean(value, requester=requester)
    if field_type == FieldType.SERVICE:
        return _service_clean(value, requester=requester)
    raise _AnswerError("This field cannot be answered.")  # pragma: no cover - types are checked


def _text_clean(field: dict, value: Any) -> str:
    if not isinstance(value, str):
        raise _AnswerError("The answer must be text.")
    value = _strip_nul(value)
    text = value.strip() if field["type"] == FieldType.LONG_TEXT else _clean_line(value)
    limit = field.get("max_length", MAX_TEXT_ANSWER)
    if len(text) > limit:
        raise _AnswerError(f"At most {limit} characters; this answer has {len(text)}.")
    return text


def _number_clean(field: dict, value: Any) -> int | float:
    if isinstance(value, str):
        value = _parse_number(value.strip())
    if not _is_number(value):
        raise _AnswerError("The answer must be a number.")
    if field.get("integer"):
        if value != int(value):
            raise _AnswerError("The answer must be a whole number.")
        value = int(value)
    if "min" in field and value < field["min"]:
        raise _AnswerError(f"The answer must be at least {field['min']}.")
    if "max" in field and value > field["max"]:
        raise _AnswerError(f"The answer must be at most {field['max']}.")
    return value


def _parse_number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number


def _multi_choice_clean(field: dict, value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        raise _AnswerError("The answer must be a list of choices.")
    picked: list[str] = []
    for item in value:
        text = _clean_line(item) if isinstance(item, str) else None
        if text not in field["choices"]:
            raise _AnswerError(f"{_shown(item)} is not one of the choices.")
        if text not in picked:
            picked.append(text)
    return picked


def _date_clean(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        raise _AnswerError("Give a date (YYYY-MM-DD), without a time.")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise _AnswerError("Give a date as YYYY-MM-DD.")
    try:
        return datetime.date.fromisoformat(value.strip()).isoformat()
    except ValueError as exc:
        raise _AnswerError(f"{value.strip()} is not a date in the calendar.") from exc


def _as_id(value: Any) -> int | None:
    if hasattr(value, "pk") and _is_int(value.pk):
        return value.pk
    if _is_int(value):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        return int(value.strip())
    return None


def _user_clean(value: Any, *, requester: User) -> int:
    user_id = _as_id(value)
    if user_id is None or not (0 < user_id < MAX_ABS_NUMBER):
        raise _AnswerError("Choose a person.")
    people = User.objects.restrict(requester, "view").filter(pk=user_id, is_active=True)
    if not people.exists():
        raise _AnswerError("This person is not someone you can choose.")
    return user_id


def _service_clean(value: Any, *, requester: User) -> int:
    service_id = _as_id(value)
    if service_id is None or not (0 < service_id < MAX_ABS_NUMBER):
        raise _AnswerError("Choose a service.")
    offered = Service.objects.restrict(requester, "view").filter(pk=service_id, stage=Stage.CATALOGUE)
    if not offered.exists():
        raise _AnswerError("This service is not in the catalogue (it may be retired).")
    return service_id


def _attachment_clean(field: dict, value: Any, upload: Any) -> Any:
    if value not in (None, "", []):
        raise _AnswerError("Attach the file itself; this field takes an upload, not a value.")
    if upload is None:
        return None
    try:
        check_upload(upload, field=field["key"])
    except ServiceError as exc:
        raise _AnswerError(exc.message) from exc
    return upload


# --- visibility and display -------------------------------------------------------------------


def _condition_met(field: dict, answers: Mapping) -> bool:
    """Whether a field shows, given the answers of the fields before it. A field whose
    target is hidden or unanswered is hidden too: its answer is absent from ``answers``."""
    condition = field.get("show_if")
    if not condition:
        return True
    answer = answers.get(condition["field"])
    if answer is None:
        return False
    values = condition["in"]
    if isinstance(answer, list):
        return any(item in values for item in answer)
    if isinstance(answer, bool):
        return False
    return answer in values


def fields_visible(form: list[dict], answers: Mapping) -> list[dict]:
    """The fields shown for these (cleaned) answers, in order."""
    visible: list[dict] = []
    shown: dict[str, Any] = {}
    for field in form:
        if _condition_met(field, shown):
            visible.append(field)
            if field["key"] in answers:
                shown[field["key"]] = answers[field["key"]]
    return visible


def answers_display(form: list[dict], answers: Mapping) -> list[tuple[str, str]]:
    """(label, text) for each visible answered field: people and services by name,
    attachments by file name. Two queries at most, whatever the number of fields."""
    visible = [
        field for field in fields_visible(form, answers) if answers.get(field["key"]) not in (None, "", [])
    ]
    user_ids = {
        answers[f["key"]] for f in visible if f["type"] == FieldType.USER and _is_int(answers[f["key"]])
    }
    service_ids = {
        answers[f["key"]] for f in visible if f["type"] == FieldType.SERVICE and _is_int(answers[f["key"]])
    }
    people = {user.pk: str(user) for user in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    services = (
        dict(Service.objects.filter(pk__in=service_ids).values_list("pk", "name")) if service_ids else {}
    )
    rows: list[tuple[str, str]] = []
    for field in visible:
        value = answers[field["key"]]
        field_type = field["type"]
        if field_type == FieldType.USER:
            text = people.get(value, f"Person #{value} (no longer exists)")
        elif field_type == FieldType.SERVICE:
            text = services.get(value, f"Service #{value} (no longer exists)")
        elif field_type == FieldType.ATTACHMENT:
            text = str(value.get(ATTACHMENT_NAME, "")) if isinstance(value, dict) else str(value)
        elif field_type == FieldType.MULTI_CHOICE and isinstance(value, list):
            text = ", ".join(str(item) for item in value)
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        else:
            text = str(value)
        rows.append((field["label"], text))
    return rows


# Python-Markdown's escapable characters (with the "extra" extension's "|").
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def markdown_escape(text: str) -> str:
    """Text that Markdown shows as typed: every markup character escaped, HTML as entities."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def answers_markdown(form: list[dict], answers: Mapping) -> str:
    """The answers as a Markdown list for the ticket's description: "**Label:** value" per
    line, every value escaped so an answer cannot add links, images or HTML."""
    lines: list[str] = []
    for label, text in answers_display(form, answers):
        value_lines = [markdown_escape(line.strip()) for line in text.splitlines() if line.strip()]
        first, rest = (value_lines[0], value_lines[1:]) if value_lines else ("", [])
        lines.append(f"- **{markdown_escape(label)}:** {first}".rstrip())
        # Continuation lines are indented to stay inside the list item.
        lines.extend(f"  {line}" for line in rest)
    return "\n".join(lines)


# --- small helpers ----------------------------------------------------------------------------


def _is_key(value: Any) -> bool:
    return isinstance(value, str) and bool(KEY_PATTERN.match(value))


def _strip_nul(text: str) -> str:
    return text.replace("\x00", "")


def _clean_line(text: Any) -> str:
    """One line of text: NUL removed, runs of whitespace (newlines too) made one space."""
    if not isinstance(text, str):
        return ""
    return " ".join(_strip_nul(text).split())


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) <= MAX_ABS_NUMBER


def _shown(value: Any) -> str:
    """A value quoted for a message, cut short: messages echo what people sent."""
    text = value if isinstance(value, str) else repr(value)
    return f'"{text[:60]}…"' if len(text) > 60 else f'"{text}"'
