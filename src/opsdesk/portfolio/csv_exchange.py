"""CSV export and import of services and providers.

An import is checked row by row first (the preview); it writes only when every row is
valid, all in one transaction, through the same services the UI and API use. A file that
fails anywhere writes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from opsdesk.accounts.models import User
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.services import ensure_allowed, record_create, record_update
from opsdesk.portfolio import services
from opsdesk.portfolio.choices import (
    Channel,
    Criticality,
    DeliveryType,
    ProviderKind,
    ServiceType,
    Stage,
    SupportMode,
)
from opsdesk.portfolio.models import BusinessCalendar, Provider, Service

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
LIST_SEPARATOR = ";"

SERVICE_COLUMNS = (
    "name",
    "description",
    "type",
    "stage",
    "owner",
    "criticality",
    "service_hours",
    "depends_on",
    "channels",
    "service_levels",
    "delivery_type",
    "support_mode",
    "support_languages",
)
PROVIDER_COLUMNS = ("name", "kind", "website", "email", "phone", "notes", "services")


def _join(values: Iterable[Any]) -> str:
    return LIST_SEPARATOR.join(str(value) for value in values)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


FORMULA_STARTS = ("=", "+", "-", "@")


def _defuse(value: Any) -> Any:
    # A cell starting with = + - or @ would run as a formula in a spreadsheet: quote it away.
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _restore(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def _write(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # A leading =, +, - or @ would run as a formula in a spreadsheet: quote it away.
        writer.writerow({key: _defuse(value) for key, value in row.items()})
    return buffer.getvalue()


def services_to_csv(services_queryset: Iterable[Service]) -> str:
    queryset = services_queryset.select_related("owner", "service_hours").prefetch_related("depends_on")
    return _write(
        SERVICE_COLUMNS,
        (
            {
                "name": service.name,
                "description": service.description,
                "type": service.type,
                "stage": service.stage,
                "owner": service.owner.username if service.owner else "",
                "criticality": service.criticality,
                "service_hours": service.service_hours.name if service.service_hours else "",
                "depends_on": _join(sorted(item.name for item in service.depends_on.all())),
                "channels": _join(service.channels),
                "service_levels": service.service_levels,
                "delivery_type": service.delivery_type,
                "support_mode": service.support_mode,
                "support_languages": _join(service.support_languages),
            }
            for service in queryset
        ),
    )


def providers_to_csv(providers_queryset: Iterable[Provider]) -> str:
    queryset = providers_queryset.prefetch_related("services")
    return _write(
        PROVIDER_COLUMNS,
        (
            {
                "name": provider.name,
                "kind": provider.kind,
                "website": provider.website,
                "email": provider.email,
                "phone": provider.phone,
                "notes": provider.notes,
                "services": _join(sorted(service.name for service in provider.services.all())),
            }
            for provider in queryset
        ),
    )


@dataclass
class RowResult:
    line: int
    name: str
    action: str = ""  # "create" or "update"
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    rows: list[RowResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the file as a whole
    applied: bool = False
    columns: tuple[str, ...] = ()  # the file's header: an update changes these columns only

    @property
    def ok(self) -> bool:
        return not self.errors and all(not row.errors for row in self.rows)

    @property
    def error_count(self) -> int:
        return len(self.errors) + sum(1 for row in self.rows if row.errors)


def _read(data: bytes, columns: tuple[str, ...], result: ImportResult) -> list[tuple[int, dict[str, str]]]:
    if len(data) > MAX_IMPORT_BYTES:
        result.errors.append(f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB.")
        return []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append("The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again.")
        return []
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if "name" not in header:
        result.errors.append(
            f"The first line must name the columns, including 'name'. Known: {', '.join(columns)}."
        )
        return []
    unknown = sorted(set(header) - set(columns))
    if unknown:
        result.errors.append(f"Unknown columns: {', '.join(unknown)}. Known: {', '.join(columns)}.")
        return []
    reader.fieldnames = header
    result.columns = tuple(header)
    rows = []
    try:
        for raw in reader:
            if len(rows) >= MAX_IMPORT_ROWS:
                result.errors.append(f"Import at most {MAX_IMPORT_ROWS} rows at a time.")
                return []
            if None in raw:
                rows.append((reader.line_num, {"__extra__": "x"}))
                continue
            rows.append(
                (reader.line_num, {key: _restore((value or "").strip()) for key, value in raw.items()})
            )
    except csv.Error as exc:
        result.errors.append(f"Line {reader.line_num}: {exc}.")
        return []
    return rows


def _choice(row: RowResult, raw: dict[str, str], name: str, choices: type, default: Any = None) -> Any:
    value = raw.get(name, "")
    if not value:
        return default
    if value not in choices.values:
        row.errors[name] = f"{value!r} is not one of: {', '.join(str(v) for v in choices.values)}."
        return default
    return value


def _check_duplicates(result: ImportResult) -> None:
    seen: dict[str, int] = {}
    for row in result.rows:
        key = row.name.casefold()
        if key in seen:
            row.errors["name"] = f"{row.name!r} appears again (first on line {seen[key]})."
        else:
            seen[key] = row.line


def _run(result: ImportResult, *, actor: User, apply: bool, write: Callable[[], None]) -> ImportResult:
    _check_duplicates(result)
    if not apply or not result.ok:
        return result
    try:
        with transaction.atomic():
            write()
    except (ServiceError, ValidationError) as exc:
        message = exc.message if isinstance(exc, ServiceError) else "; ".join(exc.messages)
        result.errors.append(f"Nothing was imported: {message}")
        return result
    result.applied = True
    return result


def services_import(*, actor: User, data: bytes, apply: bool = False) -> ImportResult:
    """Check (and with ``apply``, write) a CSV of services; new names are created, known ones updated."""
    ensure_allowed(actor=actor, action="add", model=Service)
    result = ImportResult()
    raw_rows = _read(data, SERVICE_COLUMNS, result)
    existing = {service.name.casefold(): service for service in Service.objects.all()}
    in_file = {raw.get("name", "").casefold() for _, raw in raw_rows}
    calendars = {calendar.name: calendar for calendar in BusinessCalendar.objects.all()}
    for line, raw in raw_rows:
        row = RowResult(line=line, name=raw.get("name", ""))
        result.rows.append(row)
        if "__extra__" in raw:
            row.errors["row"] = "This row has more values than the header has columns."
            continue
        if not row.name:
            row.errors["name"] = "Every row needs a name."
            continue
        current = existing.get(row.name.casefold())
        row.action = "update" if current else "create"
        if current and not Service.objects.restrict(actor, "change").filter(pk=current.pk).exists():
            row.errors["name"] = "You may not change this existing service."
        values: dict[str, Any] = {
            "description": raw.get("description", ""),
            "service_levels": raw.get("service_levels", ""),
        }
        values["type"] = _choice(row, raw, "type", ServiceType, ServiceType.BUSINESS)
        values["stage"] = _choice(row, raw, "stage", Stage, current.stage if current else Stage.PIPELINE)
        values["delivery_type"] = _choice(row, raw, "delivery_type", DeliveryType, DeliveryType.IN_HOUSE)
        values["support_mode"] = _choice(row, raw, "support_mode", SupportMode, SupportMode.REMOTE)
        criticality = raw.get("criticality", "") or str(Criticality.MEDIUM)
        if criticality not in {str(value) for value in Criticality.values}:
            row.errors["criticality"] = "A number from 1 (critical) to 4 (low)."
        else:
            values["criticality"] = int(criticality)
        owner_name = raw.get("owner", "")
        values["owner"] = User.objects.filter(username=owner_name).first() if owner_name else None
        if owner_name and values["owner"] is None:
            row.errors["owner"] = f"No user named {owner_name!r}."
        hours = raw.get("service_hours", "")
        values["service_hours"] = calendars.get(hours) if hours else None
        if hours and values["service_hours"] is None:
            row.errors["service_hours"] = f"No calendar named {hours!r}."
        values["channels"] = _split(raw.get("channels", ""))
        bad_channels = [item for item in values["channels"] if item not in Channel.values]
        if bad_channels:
            row.errors["channels"] = f"Unknown channels: {', '.join(bad_channels)}."
        values["support_languages"] = _split(raw.get("support_languages", ""))
        depends = _split(raw.get("depends_on", ""))
        missing = [
            name for name in depends if name.casefold() not in existing and name.casefold() not in in_file
        ]
        if missing:
            row.errors["depends_on"] = f"No service named {', '.join(missing)}."
        candidate = Service(
            name=row.name,
            **{key: value for key, value in values.items() if key not in row.errors and key != "stage"},
        )
        try:
            candidate.full_clean(validate_unique=False)
        except ValidationError as exc:
            row.errors.update({key: "; ".join(messages) for key, messages in exc.message_dict.items()})
        values["depends_on"] = depends
        row.values = values

    def write() -> None:
        by_name: dict[str, Service] = {}
        for row in result.rows:
            values = {key: value for key, value in row.values.items() if key not in ("depends_on", "stage")}
            stage = row.values["stage"]
            current = existing.get(row.name.casefold())
            if current is None:
                by_name[row.name.casefold()] = services.service_create(
                    actor=actor, data={**values, "name": row.name, "stage": stage}
                )
                continue
            # An existing service changes only in the columns the file has.
            changed = {
                key: value
                for key, value in values.items()
                if key in result.columns and getattr(current, key) != value
            }
            if changed:
                services.service_update(actor=actor, service=current, data=changed)
            if "stage" in result.columns and stage != current.stage:
                services.service_change_stage(actor=actor, service=current, to_stage=stage, note="CSV import")
            by_name[row.name.casefold()] = current
        if "depends_on" not in result.columns:
            return
        lookup = {**existing, **by_name}
        for row in result.rows:
            service = lookup[row.name.casefold()]
            wanted = [lookup[name.casefold()] for name in row.values["depends_on"]]
            if {item.pk for item in wanted} == set(service.depends_on.values_list("pk", flat=True)):
                continue
            try:
                services.service_update(actor=actor, service=service, data={}, depends_on=wanted)
            except ServiceError as exc:
                raise ServiceError(f"line {row.line}: {exc.message}", code=exc.code, field=exc.field) from exc

    return _run(result, actor=actor, apply=apply, write=write)


def providers_import(*, actor: User, data: bytes, apply: bool = False) -> ImportResult:
    """Check (and with ``apply``, write) a CSV of providers; new names are created, known ones updated."""
    ensure_allowed(actor=actor, action="add", model=Provider)
    result = ImportResult()
    raw_rows = _read(data, PROVIDER_COLUMNS, result)
    existing = {provider.name.casefold(): provider for provider in Provider.objects.all()}
    known_services = {service.name.casefold(): service for service in Service.objects.all()}
    for line, raw in raw_rows:
        row = RowResult(line=line, name=raw.get("name", ""))
        result.rows.append(row)
        if "__extra__" in raw:
            row.errors["row"] = "This row has more values than the header has columns."
            continue
        if not row.name:
            row.errors["name"] = "Every row needs a name."
            continue
        row.action = "update" if row.name.casefold() in existing else "create"
        values = {key: raw.get(key, "") for key in ("website", "email", "phone", "notes")}
        values["kind"] = _choice(row, raw, "kind", ProviderKind, ProviderKind.VENDOR)
        names = _split(raw.get("services", ""))
        missing = [name for name in names if name.casefold() not in known_services]
        if missing:
            row.errors["services"] = f"No service named {', '.join(missing)}."
        values["services"] = [
            known_services[name.casefold()] for name in names if name.casefold() in known_services
        ]
        candidate = Provider(
            name=row.name, **{key: value for key, value in values.items() if key != "services"}
        )
        try:
            candidate.full_clean(exclude=["name"], validate_unique=False)
        except ValidationError as exc:
            row.errors.update({key: "; ".join(messages) for key, messages in exc.message_dict.items()})
        row.values = values

    def write() -> None:
        for row in result.rows:
            values = dict(row.values)
            linked = values.pop("services")
            current = existing.get(row.name.casefold())
            if current is None:
                record_create(
                    model=Provider, actor=actor, data={**values, "name": row.name}, m2m={"services": linked}
                )
            else:
                # An existing provider changes only in the columns the file has.
                record_update(
                    instance=current,
                    actor=actor,
                    data={key: value for key, value in values.items() if key in result.columns},
                    m2m={"services": linked} if "services" in result.columns else None,
                )

    return _run(result, actor=actor, apply=apply, write=write)
