"""Writes of the learning app: training records (which may raise an agent's skill level),
certifications and their expiry sweep, learning paths, assignments and completions.

Each function takes the acting user, checks the object-level rules, writes in one
transaction and leaves an audit entry (through ``opsdesk.core.services``)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opsdesk.accounts.models import AgentSkill, User
from opsdesk.accounts.permissions import led_member_ids
from opsdesk.core.audit import acting
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.querysets import permission_filter
from opsdesk.core.services import ensure_allowed, record_create, record_delete, record_update
from opsdesk.core.uploads import check_upload
from opsdesk.knowledge.models import Article
from opsdesk.learning.choices import CertificationStatus
from opsdesk.learning.constants import EXPIRY_WARNING_DAYS
from opsdesk.learning.models import (
    Certification,
    LearningPath,
    LearningPathAssignment,
    LearningPathStep,
    StepCompletion,
    TrainingRecord,
)

EVIDENCE_TYPES = {".pdf", ".png", ".jpg", ".jpeg", ".txt"}


def _require_agent(user: User, field: str = "user") -> None:
    if user is None or not user.is_agent or not user.is_active:
        raise ServiceError("Learning records are kept for active support staff only.", field=field)


# --- training -------------------------------------------------------------------------------
def _check_evidence(data: dict[str, Any]) -> None:
    upload = data.get("evidence")
    # A new upload has a size and no stored name yet; an unchanged FieldFile is left alone.
    if upload and not getattr(upload, "_committed", False) and hasattr(upload, "size"):
        check_upload(upload, allowed=EVIDENCE_TYPES, field="evidence")


def training_record_create(*, actor: User, data: dict[str, Any]) -> TrainingRecord:
    """Record a completed course for ``data['user']`` (an agent's own, or a lead's member's).

    With a skill and a level reached, the agent's skill level is raised at once when the actor
    may maintain that person's skills (a lead, a manager); otherwise the record waits for one
    to confirm it (``training_record_apply_skill``)."""
    _require_agent(data.get("user"))
    _check_evidence(data)
    with transaction.atomic():
        record = record_create(model=TrainingRecord, actor=actor, data=data)
        if record.skill_pending and may_maintain_skills(actor, record.user):
            _apply_level(actor=actor, record=record)
    return record


def training_record_update(
    *, actor: User, record: TrainingRecord, data: dict[str, Any], expected_version: int | None
) -> TrainingRecord:
    if "user" in data:
        _require_agent(data["user"])
    _check_evidence(data)
    level_changed = any(
        name in data and data[name] != getattr(record, name) for name in ("skill", "level_reached")
    )
    with transaction.atomic():
        if level_changed:
            # A different skill or level is a new claim: it is applied (or confirmed) afresh.
            record.skill_applied_at = None
        record = record_update(instance=record, actor=actor, data=data, expected_version=expected_version)
        # The record may have been moved to someone the actor does not look after.
        ensure_allowed(actor=actor, action="change", instance=record)
        if record.skill_pending and may_maintain_skills(actor, record.user):
            _apply_level(actor=actor, record=record)
    return record


def training_record_delete(*, actor: User, record: TrainingRecord, expected_version: int | None) -> None:
    """Delete the record; a skill level it raised stays (skills are maintained on the person)."""
    record_delete(instance=record, actor=actor, expected_version=expected_version)


def training_record_apply_skill(*, actor: User, record: TrainingRecord) -> AgentSkill:
    """Confirm a training record's level reached: raise the agent's skill to it (a lead or manager)."""
    ensure_allowed(actor=actor, action="view", instance=record)
    if not (record.skill_id and record.level_reached):
        raise ServiceError("This training record names no skill level to apply.", code="no_skill")
    if not may_maintain_skills(actor, record.user):
        raise NotAllowed("Only the person's team lead or a manager can confirm a skill level.")
    with transaction.atomic():
        return _apply_level(actor=actor, record=record)


def may_maintain_skills(actor: User, person: User) -> bool:
    allowed = permission_filter(actor, "change", AgentSkill)
    if allowed is True:
        return True
    if allowed is False:
        return False
    # The same rule as AgentSkill's, asked about a row that may not exist yet.
    return User.objects.filter(pk=person.pk, pk__in=led_member_ids(actor)).exists()


def _apply_level(*, actor: User, record: TrainingRecord) -> AgentSkill:
    """Raise (never lower) the agent's level of the record's skill, and stamp the record."""
    held = AgentSkill.objects.filter(user=record.user, skill=record.skill).first()
    if held is None:
        held = record_create(
            model=AgentSkill,
            actor=actor,
            data={"user": record.user, "skill": record.skill, "level": record.level_reached},
        )
    elif held.level < record.level_reached:
        held = record_update(instance=held, actor=actor, data={"level": record.level_reached})
    with acting(actor=actor):
        record.skill_applied_at = timezone.now()
        record.save(update_fields=["skill_applied_at"])
    return held


# --- certifications ---------------------------------------------------------------------------
def certification_status_on(
    *, expires_on: datetime.date | None, today: datetime.date, warning_days: int = EXPIRY_WARNING_DAYS
) -> str:
    if expires_on is None:
        return CertificationStatus.VALID
    if expires_on <= today:
        return CertificationStatus.EXPIRED
    if expires_on <= today + datetime.timedelta(days=warning_days):
        return CertificationStatus.EXPIRING
    return CertificationStatus.VALID


def certification_create(*, actor: User, data: dict[str, Any]) -> Certification:
    _require_agent(data.get("user"))
    data = {
        **data,
        "status": certification_status_on(expires_on=data.get("expires_on"), today=timezone.localdate()),
    }
    return record_create(model=Certification, actor=actor, data=data)


def certification_update(
    *, actor: User, certification: Certification, data: dict[str, Any], expected_version: int | None
) -> Certification:
    """Edit a certification; a renewal (a new expiry date) gets its own reminder in its window."""
    if "user" in data:
        _require_agent(data["user"])
    expires_on = data.get("expires_on", certification.expires_on)
    data = {**data, "status": certification_status_on(expires_on=expires_on, today=timezone.localdate())}
    with transaction.atomic():
        certification = record_update(
            instance=certification, actor=actor, data=data, expected_version=expected_version
        )
        ensure_allowed(actor=actor, action="change", instance=certification)
    return certification


def certification_delete(*, actor: User, certification: Certification, expected_version: int | None) -> None:
    record_delete(instance=certification, actor=actor, expected_version=expected_version)


def certifications_refresh_status(*, today: datetime.date) -> dict[str, int]:
    """Bring every certification's status up to ``today`` (the daily sweep); counts by new status.

    A bulk update, not an edit: nobody changed the record, time passed."""
    counts = {}
    expired = Certification.objects.filter(expires_on__lte=today).exclude(status=CertificationStatus.EXPIRED)
    counts[CertificationStatus.EXPIRED] = expired.update(status=CertificationStatus.EXPIRED)
    soon = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
    expiring = Certification.objects.filter(expires_on__gt=today, expires_on__lte=soon).exclude(
        status=CertificationStatus.EXPIRING
    )
    counts[CertificationStatus.EXPIRING] = expiring.update(status=CertificationStatus.EXPIRING)
    # A renewal saved with a later expiry is already valid; this catches edits made by SQL.
    valid = Certification.objects.filter(Q(expires_on__isnull=True) | Q(expires_on__gt=soon)).exclude(
        status=CertificationStatus.VALID
    )
    counts[CertificationStatus.VALID] = valid.update(status=CertificationStatus.VALID)
    return counts


def certification_mark_reminded(*, certification: Certification) -> bool:
    """Note that the reminder for the current expiry date went out; False if one already had.

    A compare-and-set, so two sweeps running at once send one reminder."""
    return bool(
        Certification.objects.filter(pk=certification.pk, expires_on=certification.expires_on)
        .exclude(reminded_for=certification.expires_on)
        .update(reminded_for=certification.expires_on)
    )


def as_service_error(exc: ValidationError) -> ServiceError:
    messages = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    field, errors = next(iter(messages.items()))
    return ServiceError(" ".join(errors), field=field)


# --- learning paths ------------------------------------------------------------------------------
def learning_path_create(*, actor: User, data: dict[str, Any]) -> LearningPath:
    """A new path, owned by whoever creates it (a lead then maintains their own paths)."""
    return record_create(model=LearningPath, actor=actor, data={**data, "owner": data.get("owner") or actor})


def learning_path_step_create(*, actor: User, data: dict[str, Any]) -> LearningPathStep:
    """Add an article at a position. Without a position it goes last."""
    path = data["path"]
    if not data.get("position"):
        last = path.steps.order_by("-position").values_list("position", flat=True).first() or 0
        data = {**data, "position": last + 1}
    ensure_allowed(actor=actor, action="change", instance=path)
    return record_create(model=LearningPathStep, actor=actor, data=data)


def learning_path_assign(*, actor: User, data: dict[str, Any]) -> LearningPathAssignment:
    """Set a path for one agent or one team (expanded to its members whenever it is read)."""
    user = data.get("user")
    if user is not None:
        _require_agent(user)
    return record_create(model=LearningPathAssignment, actor=actor, data={**data, "assigned_by": actor})


def step_complete(*, actor: User, step: LearningPathStep) -> StepCompletion:
    """Mark a step read by the actor; marking it again changes nothing."""
    _require_agent(actor, field="step")
    if not Article.objects.restrict(actor, "view").filter(pk=step.article_id).exists():
        raise NotAllowed("You cannot open this step's article, so you cannot mark it read.")
    existing = StepCompletion.objects.filter(step=step, user=actor).first()
    if existing is not None:
        return existing
    return record_create(model=StepCompletion, actor=actor, data={"step": step, "user": actor})


def step_uncomplete(*, actor: User, step: LearningPathStep) -> None:
    """Take back one's own "read" mark (a misclick); nothing happens if there was none."""
    completion = StepCompletion.objects.filter(step=step, user=actor).first()
    if completion is not None:
        record_delete(instance=completion, actor=actor)
