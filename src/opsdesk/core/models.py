"""Base models every domain app builds on, and the platform's own records:
the audit trail, security events, background jobs and their schedules."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.fields.files import FieldFile

from opsdesk.core.audit import current_context
from opsdesk.core.choices import AuditOperation, Channel, JobStatus, SecurityEventKind
from opsdesk.core.querysets import RestrictedQuerySet

REDACTED = "***"


class ImmutableRecordError(Exception):
    """Raised when code tries to change or delete an append-only record."""


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True


class AuditedModel(TimeStampedModel):
    """A domain record whose every create, update and delete lands in the audit trail.

    It also carries a ``version`` that each save increments; services compare it with the
    version the editor saw to refuse stale updates (optimistic concurrency).
    """

    version = models.PositiveIntegerField(default=1, editable=False)

    # Fields whose values never enter the audit trail (a marker records that they changed).
    audit_redact: ClassVar[tuple[str, ...]] = ()
    audit_ignore: ClassVar[tuple[str, ...]] = ("created_at", "updated_at", "version")

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        creating = self._state.adding
        if not creating:
            self.version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        before = {} if creating else dict(getattr(self, "_audit_loaded", {}))
        super().save(*args, **kwargs)
        after = self._audit_values()
        changes = _diff(before, after, redact=self.audit_redact, creating=creating)
        if creating or changes:
            AuditEntry.record(self, AuditOperation.CREATE if creating else AuditOperation.UPDATE, changes)
        self._audit_loaded = dict(after)

    def delete(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        snapshot = {key: [value, None] for key, value in self._audit_values().items()}
        for key in self.audit_redact:
            if key in snapshot:
                snapshot[key] = [REDACTED, None]
        AuditEntry.record(self, AuditOperation.DELETE, _jsonable(snapshot))
        return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):  # type: ignore[override]
        instance = super().from_db(db, field_names, values)
        # The values as loaded are the "before" side of the next audit entry; keeping the
        # tuple costs nothing, the diff is only computed when the row is saved.
        instance._audit_loaded = dict(zip(field_names, values, strict=True))
        return instance

    def _audit_values(self) -> dict[str, Any]:
        values = {}
        for field in self._meta.concrete_fields:
            if field.name in self.audit_ignore or field.attname not in self.__dict__:
                continue
            value = getattr(self, field.attname)
            # A file is recorded by its stored name, as the database holds it.
            values[field.attname] = value.name if isinstance(value, FieldFile) else value
        return values


def _diff(before: dict, after: dict, *, redact: tuple[str, ...], creating: bool) -> dict[str, list]:
    changes = {}
    for key, new in after.items():
        old = before.get(key)
        if creating and new in (None, ""):
            continue
        if not creating and key not in before:
            continue
        if old != new:
            name = key[:-3] if key.endswith("_id") else key
            changes[key] = [REDACTED, REDACTED] if name in redact or key in redact else [old, new]
    return _jsonable(changes)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


class AppendOnlyModel(models.Model):
    """A record that is written once and never changed or deleted through the ORM."""

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError(f"{type(self).__name__} records cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        raise ImmutableRecordError(f"{type(self).__name__} records cannot be deleted")


class AuditEntry(AppendOnlyModel):
    """One change to one domain record: who, when, through which channel, before and after."""

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SYSTEM)
    operation = models.CharField(max_length=10, choices=AuditOperation.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=32, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ("-at", "-id")
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx"),
            models.Index(fields=["-at", "-id"], name="audit_recent_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.object_repr} by {self.actor_name or 'system'}"

    @classmethod
    def record(cls, instance: models.Model, operation: str, changes: dict) -> AuditEntry:
        context = current_context()
        actor = context.actor if getattr(context.actor, "is_authenticated", False) else None
        return cls.objects.create(
            actor=actor,
            actor_name=actor.get_username() if actor else "",
            channel=context.channel,
            operation=operation,
            content_type=ContentType.objects.get_for_model(instance),
            object_id=str(instance.pk),
            object_repr=str(instance)[:200],
            changes=changes,
            request_id=context.request_id,
            ip=context.ip,
        )


class SecurityEvent(AppendOnlyModel):
    """Sign-ins, failures, lockouts, refusals and token changes: the security log."""

    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=20, choices=SecurityEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-at", "-id")
        indexes = [
            models.Index(fields=["-at", "-id"], name="secevent_recent_idx"),
            models.Index(fields=["kind", "-at"], name="secevent_kind_idx"),
            models.Index(fields=["username", "-at"], name="secevent_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username or '-'}"


class Job(models.Model):
    """One run of a background task: status, timings, its log and the error if it failed."""

    name = models.CharField(max_length=200, db_index=True)
    task_result_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.RUNNING)
    attempt = models.PositiveIntegerField(default=1)
    arguments = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)
        indexes = [models.Index(fields=["status", "-id"], name="job_status_idx")]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Schedule(models.Model):
    """A task that runs periodically: a cron expression, evaluated in UTC.

    ``next_run_at`` is claimed with a compare-and-set update, so any number of scheduler
    processes can run side by side and each run fires exactly once.
    """

    name = models.CharField(max_length=100, unique=True)
    task = models.CharField(max_length=200, help_text="Dotted path of the task to enqueue.")
    cron = models.CharField(max_length=100, help_text="Cron expression, e.g. '*/5 * * * *'.")
    kwargs = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.cron})"
