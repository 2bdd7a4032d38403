"""Writes of the inbound webhooks: keeping sources and their secrets, and receiving a delivery
(check it, record it, create or update its ticket through the tickets' services).

A delivery is checked in this order, and each refusal is recorded (without its body, which
nobody vouched for) and answered with a problem detail: size (413), content type (415),
signature and timestamp (401), delivery id (400), JSON (400). A signed, well-formed delivery
then acts once per delivery id: the database's unique constraint on processed deliveries
decides a concurrent race, and the loser answers as the duplicate it is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from opsdesk.core.audit import acting
from opsdesk.core.choices import Channel
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.services import ensure_allowed, record_create, record_delete, record_update
from opsdesk.tickets.choices import OPEN_STATUSES, ResolutionCode, Status
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_assign, ticket_create, ticket_reply, ticket_transition
from opsdesk.webhooks.choices import (
    STATUS_OPEN,
    STATUS_RESOLVED,
    DeliveryAction,
    DeliveryStatus,
    UpdateVisibility,
)
from opsdesk.webhooks.constants import (
    DELIVERY_RETENTION_DAYS,
    MAX_BODY_BYTES,
    MAX_DELIVERY_ID_LENGTH,
    ROTATION_GRACE_HOURS,
    TIMESTAMP_TOLERANCE_SECONDS,
)
from opsdesk.webhooks.models import WebhookDelivery, WebhookSource
from opsdesk.webhooks.payload_mapping import Extracted, MappingError, extract
from opsdesk.webhooks.selectors import processed_delivery, ticket_for_external_id
from opsdesk.webhooks.signatures import new_secret, signature_matches

logger = logging.getLogger("opsdesk.webhooks")

SECRET_FIELDS = frozenset({"secret", "previous_secret", "previous_secret_expires_at", "secret_rotated_at"})
FINAL_STATUSES = (Status.CLOSED, Status.CANCELLED)
MAX_TIMESTAMP_DIGITS = 12
MAX_ERROR_CHARS = 2000


# --- sources ---------------------------------------------------------------------------------
def source_create(*, actor: Any, data: dict[str, Any]) -> tuple[WebhookSource, str]:
    """Add a source with a fresh secret; returns the source and the secret (shown this once)."""
    secret = new_secret()
    data = {key: value for key, value in data.items() if key not in SECRET_FIELDS}
    source = record_create(model=WebhookSource, actor=actor, data={**data, "secret": secret})
    return source, secret


def source_update(
    *, actor: Any, source: WebhookSource, data: dict[str, Any], expected_version: int | None = None
) -> WebhookSource:
    """Change a source's settings and mapping (never its secret: rotate it instead)."""
    if refused := sorted(SECRET_FIELDS & set(data)):
        raise ServiceError("The secret is changed by rotating it.", field=refused[0])
    return record_update(instance=source, actor=actor, data=data, expected_version=expected_version)


def source_rotate_secret(
    *,
    actor: Any,
    source: WebhookSource,
    keep_previous: bool = False,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> str:
    """Give the source a new secret and return it (shown this once). With ``keep_previous`` the
    old one keeps working for ROTATION_GRACE_HOURS, so the sender can switch without a gap."""
    now = now or timezone.now()
    secret = new_secret()
    data: dict[str, Any] = {"secret": secret, "secret_rotated_at": now}
    if keep_previous:
        data.update(
            previous_secret=source.secret,
            previous_secret_expires_at=now + timedelta(hours=ROTATION_GRACE_HOURS),
        )
    else:
        data.update(previous_secret="", previous_secret_expires_at=None)
    record_update(instance=source, actor=actor, data=data, expected_version=expected_version)
    return secret


def source_delete(*, actor: Any, source: WebhookSource, expected_version: int | None = None) -> None:
    """Remove a source and its delivery log (the tickets it raised stay)."""
    record_delete(instance=source, actor=actor, expected_version=expected_version)


# --- deliveries --------------------------------------------------------------------------------
@dataclass
class DeliveryOutcome:
    """What the endpoint answers: a result (2xx) or a problem (``code`` and ``detail``)."""

    http_status: int
    result: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    detail: str = ""
    delivery: WebhookDelivery | None = None
    # A wrong or missing signature: the endpoint writes it to the security log.
    signature_rejected: bool = False

    @property
    def is_problem(self) -> bool:
        return bool(self.code)


@dataclass(frozen=True)
class Arrival:
    """A request as the endpoint read it: the raw body and the headers that matter."""

    body: bytes
    content_type: str = ""
    signature: str = ""
    timestamp: str = ""
    delivery_id: str = ""
    remote_ip: str | None = None
    oversized: bool = False
    declared_bytes: int = 0


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _reject(
    source: WebhookSource,
    arrival: Arrival,
    *,
    http_status: int,
    code: str,
    detail: str,
    signed: bool = False,
    now: datetime,
) -> DeliveryOutcome:
    delivery = WebhookDelivery.objects.create(
        source=source,
        delivery_id=arrival.delivery_id[:MAX_DELIVERY_ID_LENGTH],
        received_at=now,
        signature_valid=signed,
        status=DeliveryStatus.REJECTED,
        http_status=http_status,
        error=detail,
        body_bytes=arrival.declared_bytes or len(arrival.body),
        remote_ip=arrival.remote_ip,
    )
    return DeliveryOutcome(
        http_status=http_status,
        code=code,
        detail=detail,
        delivery=delivery,
        signature_rejected=http_status == 401 and not signed,
    )


def _refusal(source: WebhookSource, arrival: Arrival, now: datetime) -> tuple[int, str, str, bool] | None:
    """Why the request cannot be accepted, as (status, code, detail, signed), or None."""
    if arrival.oversized or len(arrival.body) > MAX_BODY_BYTES:
        return 413, "too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.", False
    if not _is_json(arrival.content_type):
        return (
            415,
            "unsupported_media_type",
            f"Send JSON with Content-Type: application/json (got {arrival.content_type[:60]!r}).",
            False,
        )
    if not arrival.signature:
        return 401, "signature_missing", "Sign the body: X-OpsDesk-Signature: sha256=<hex>.", False
    timestamp = arrival.timestamp.strip()
    if timestamp and (
        not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > MAX_TIMESTAMP_DIGITS
    ):
        return 401, "timestamp_invalid", "X-OpsDesk-Timestamp is the Unix time in whole seconds.", False
    if not timestamp and source.require_timestamp:
        return (
            401,
            "timestamp_missing",
            "This source requires X-OpsDesk-Timestamp (Unix seconds), included in the signature.",
            False,
        )
    if not signature_matches(
        header=arrival.signature,
        secrets_to_try=source.secrets_in_force(now),
        body=arrival.body,
        timestamp=timestamp or None,
    ):
        return (
            401,
            "signature_invalid",
            "The signature does not match the body and this source's secret.",
            False,
        )
    if timestamp and abs(now.timestamp() - int(timestamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        return (
            401,
            "timestamp_expired",
            f"The timestamp is more than {TIMESTAMP_TOLERANCE_SECONDS // 60} minutes away from our clock: "
            "a replay, or a sender whose clock is wrong.",
            True,
        )
    delivery_id = arrival.delivery_id.strip()
    if not delivery_id:
        return 400, "delivery_id_missing", "Name each delivery: X-OpsDesk-Delivery: <unique id>.", True
    if len(delivery_id) > MAX_DELIVERY_ID_LENGTH or not delivery_id.isprintable():
        return (
            400,
            "delivery_id_invalid",
            f"X-OpsDesk-Delivery is at most {MAX_DELIVERY_ID_LENGTH} printable characters.",
            True,
        )
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_payload(body: bytes) -> Any:
    """The JSON value of the body; ValueError with a readable message otherwise."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"The body is not UTF-8 (byte {exc.start}).") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc
    except RecursionError as exc:
        raise ValueError("The body is nested too deeply.") from exc
    except ValueError as exc:
        raise ValueError(f"The body is not valid JSON: {exc}.") from exc


def delivery_receive(
    *, source: WebhookSource, arrival: Arrival, now: datetime | None = None
) -> DeliveryOutcome:
    """Check, record and act on one request to ``source``'s endpoint."""
    now = now or timezone.now()
    if refusal := _refusal(source, arrival, now):
        http_status, code, detail, signed = refusal
        return _reject(
            source, arrival, http_status=http_status, code=code, detail=detail, signed=signed, now=now
        )
    try:
        payload = parse_payload(arrival.body)
    except ValueError as exc:
        return _reject(
            source, arrival, http_status=400, code="invalid_json", detail=str(exc), signed=True, now=now
        )
    delivery_id = arrival.delivery_id.strip()
    original = processed_delivery(source=source, delivery_id=delivery_id)
    if original is not None:
        return _duplicate(source, original, arrival, now=now)
    return _process(
        source=source,
        payload=payload,
        delivery_id=delivery_id,
        body_bytes=len(arrival.body),
        remote_ip=arrival.remote_ip,
        now=now,
    )


def _duplicate(
    source: WebhookSource, original: WebhookDelivery, arrival: Arrival, *, now: datetime
) -> DeliveryOutcome:
    delivery = WebhookDelivery.objects.create(
        source=source,
        delivery_id=original.delivery_id,
        received_at=now,
        signature_valid=True,
        status=DeliveryStatus.DUPLICATE,
        http_status=200,
        body_bytes=len(arrival.body),
        external_id=original.external_id,
        ticket_id=original.ticket_id,
        action=original.action,
        duplicate_of=original,
        remote_ip=arrival.remote_ip,
    )
    return DeliveryOutcome(
        http_status=200, result={**original.result(), "duplicate": True}, delivery=delivery
    )


def _process(
    *,
    source: WebhookSource,
    payload: Any,
    delivery_id: str,
    body_bytes: int,
    remote_ip: str | None,
    now: datetime,
    replay_of: WebhookDelivery | None = None,
    replayed_by: Any = None,
) -> DeliveryOutcome:
    """Claim the delivery id, then create or update the ticket; a failure is recorded, not raised."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                # Claimed first: a concurrent twin blocks here until this one commits, then fails.
                delivery = WebhookDelivery.objects.create(
                    source=source,
                    delivery_id=delivery_id,
                    received_at=now,
                    signature_valid=True,
                    status=DeliveryStatus.PROCESSED,
                    http_status=200,
                    payload=payload,
                    body_bytes=body_bytes,
                    remote_ip=remote_ip,
                    replay_of=replay_of,
                    replayed_by=replayed_by,
                )
        except IntegrityError:
            delivery = None
        if delivery is not None:
            _act(source, delivery, payload, remote_ip)
    if delivery is None:
        original = processed_delivery(source=source, delivery_id=delivery_id)
        if original is None:  # pragma: no cover - the constraint named a row that is gone
            return DeliveryOutcome(
                http_status=409, code="conflict", detail="A delivery with this id is being processed; retry."
            )
        if replay_of is not None:
            raise ServiceError(
                f"This delivery id was processed meanwhile (delivery {original.pk}).", code="conflict"
            )
        return _duplicate(source, original, Arrival(body=b"", remote_ip=remote_ip), now=now)
    if delivery.status == DeliveryStatus.FAILED:
        return DeliveryOutcome(
            http_status=delivery.http_status, code="unprocessable", detail=delivery.error, delivery=delivery
        )
    return DeliveryOutcome(http_status=delivery.http_status, result=delivery.result(), delivery=delivery)


def _act(source: WebhookSource, delivery: WebhookDelivery, payload: Any, remote_ip: str | None) -> None:
    """Run the delivery's ticket work in a savepoint, and record its outcome on the delivery."""
    extracted: Extracted | None = None
    try:
        with transaction.atomic(), acting(actor=source.account, channel=Channel.WEBHOOK, ip=remote_ip):
            extracted = extract(payload, source.field_map, source.value_map or {})
            delivery.external_id = extracted.external_id
            ticket, action = _apply(source, extracted, delivery.delivery_id)
    except (ServiceError, ValidationError, MappingError) as exc:
        delivery.status, delivery.http_status = DeliveryStatus.FAILED, 422
        delivery.error = _error_text(exc)[:MAX_ERROR_CHARS]
    except Exception as exc:
        # Never a 500 for the sender: the delivery is kept and can be replayed once fixed.
        logger.exception("webhook delivery %s of %s failed", delivery.delivery_id, source.slug)
        delivery.status, delivery.http_status = DeliveryStatus.FAILED, 422
        delivery.error = f"Unexpected error ({type(exc).__name__}); the administrators can replay it."
    else:
        delivery.ticket, delivery.action = ticket, action
        delivery.http_status = 201 if action == DeliveryAction.CREATED else 200
    delivery.warnings = extracted.warnings if extracted is not None else []
    delivery.save()


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return f"{exc.field}: {exc.message}" if exc.field else exc.message
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
        return " ".join(exc.messages)
    return str(exc)


def _account(source: WebhookSource) -> Any:
    account = source.account
    if not account.is_active or not account.is_agent or account.is_read_only:
        raise ServiceError(
            f"The account {account.get_username()!r} can no longer raise tickets; "
            "pick another on the source.",
            code="account_unusable",
        )
    return account


def _note(extracted: Extracted, delivery_id: str) -> str:
    parts = [f"**{extracted.title}**" if extracted.title else "", extracted.description]
    text = "\n\n".join(part for part in parts if part)
    return text or f"Update received (delivery {delivery_id}) without a title or description."


def _apply(source: WebhookSource, extracted: Extracted, delivery_id: str) -> tuple[Ticket | None, str]:
    account = _account(source)
    ticket = None
    if extracted.external_id:
        ticket = ticket_for_external_id(source=source, external_id=extracted.external_id)
        if ticket is not None:
            ticket.refresh_from_db()
    if ticket is not None and ticket.status not in FINAL_STATUSES:
        return ticket, _update(source, account, ticket, extracted, delivery_id)
    if extracted.status == STATUS_RESOLVED:
        extracted.warnings.append("Resolved, but no open ticket has this external id: nothing to do.")
        return None, DeliveryAction.IGNORED
    return _create(source, account, extracted), DeliveryAction.CREATED


def _create(source: WebhookSource, account: Any, extracted: Extracted) -> Ticket:
    if not extracted.title:
        path = source.field_map.get("title", "")
        raise ServiceError(
            f"The payload has no title at {path}; fix the payload or the field map.", field="title"
        )
    ticket = ticket_create(
        actor=account,
        requester=account,
        title=extracted.title,
        type=source.ticket_type,
        description=extracted.description,
        service=source.service,
        category=source.category,
        impact=extracted.impact or source.impact,
        urgency=extracted.urgency or source.urgency,
        channel=source.channel,
    )
    if source.team_id and ticket.assigned_team_id is None:
        ticket_assign(
            actor=account, ticket=ticket, team=source.team, reason=f"From webhook source {source.name}."
        )
    return ticket


def _update(
    source: WebhookSource, account: Any, ticket: Ticket, extracted: Extracted, delivery_id: str
) -> str:
    note = _note(extracted, delivery_id)
    if extracted.status == STATUS_RESOLVED and ticket.status in OPEN_STATUSES:
        try:
            with transaction.atomic():
                ticket_transition(
                    actor=account,
                    ticket=ticket,
                    to=Status.RESOLVED,
                    resolution_code=ResolutionCode.SOLVED,
                    resolution_notes=note,
                )
            return DeliveryAction.RESOLVED
        except ServiceError as exc:
            extracted.warnings.append(f"Could not resolve the ticket: {exc.message}")
            ticket.refresh_from_db()
    elif extracted.status == STATUS_OPEN and ticket.status == Status.RESOLVED:
        try:
            with transaction.atomic():
                ticket_transition(actor=account, ticket=ticket, to=Status.IN_PROGRESS, note=note)
            return DeliveryAction.REOPENED
        except ServiceError as exc:
            extracted.warnings.append(f"Could not reopen {ticket.number}: {exc.message}")
            ticket.refresh_from_db()
    ticket_reply(
        actor=account, ticket=ticket, body=note, public=source.update_visibility == UpdateVisibility.PUBLIC
    )
    return DeliveryAction.UPDATED


def delivery_replay(*, actor: Any, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """Process a failed delivery's stored payload again (after the mapping or the account was
    fixed). The replay is a delivery of its own that points at the failed one."""
    ensure_allowed(actor=actor, action="change", instance=delivery)
    if delivery.status != DeliveryStatus.FAILED or delivery.payload is None:
        raise ServiceError("Only a failed delivery with its payload can be replayed.", code="not_replayable")
    source = WebhookSource.objects.select_related("account", "team", "service", "category").get(
        pk=delivery.source_id
    )
    if not source.is_active:
        raise ServiceError("The source is inactive: activate it first.", code="source_inactive")
    if original := processed_delivery(source=source, delivery_id=delivery.delivery_id):
        raise ServiceError(
            f"This delivery id was processed since (delivery {original.pk}); nothing to replay.",
            code="conflict",
        )
    outcome = _process(
        source=source,
        payload=delivery.payload,
        delivery_id=delivery.delivery_id,
        body_bytes=delivery.body_bytes,
        remote_ip=None,
        now=now or timezone.now(),
        replay_of=delivery,
        replayed_by=actor,
    )
    return outcome.delivery


def deliveries_prune(*, now: datetime | None = None, days: int = DELIVERY_RETENTION_DAYS) -> int:
    """Delete deliveries older than ``days`` (their tickets stay); returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted
