"""Reads of the platform's own records, always restricted to what the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from opsdesk.core.models import AuditEntry, Job, SecurityEvent


def audit_entries_for(*, user: Any) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.restrict(user, "view").select_related("content_type", "actor")


def security_events_for(*, user: Any) -> QuerySet[SecurityEvent]:
    return SecurityEvent.objects.restrict(user, "view").select_related("user")


def jobs_for(*, user: Any) -> QuerySet[Job]:
    return Job.objects.restrict(user, "view").defer("log", "error")
