"""What agents keep for their own way of working: saved queue views and canned responses."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from opsdesk.accounts.models import Team
from opsdesk.core.models import AuditedModel

# The columns a queue can show, in the order they appear; a saved view picks among them.
QUEUE_COLUMNS = {
    "number": "Number",
    "title": "Title",
    "status": "Status",
    "priority": "Priority",
    "due": "Due",
    "requester": "Requester",
    "service": "Service",
    "team": "Team",
    "assignee": "Assignee",
    "created": "Opened",
    "updated": "Updated",
}
DEFAULT_COLUMNS = ["number", "title", "status", "priority", "due", "requester", "team", "assignee", "updated"]


def clean_columns(columns: object) -> list[str]:
    """Known column keys only, in the queue's own order; the defaults when none is left."""
    chosen = set(columns) if isinstance(columns, list | tuple) else set()
    kept = [key for key in QUEUE_COLUMNS if key in chosen]
    return kept or list(DEFAULT_COLUMNS)


class SavedView(AuditedModel):
    """A personal queue: the filters, sort order and columns an agent chose, under a name."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=60)
    filters = models.JSONField(
        default=dict, blank=True, help_text="The queue's filter parameters: name → list of values."
    )
    columns = models.JSONField(default=list, blank=True)
    sort = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ("owner", "name")
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_saved_view_name")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.filters, dict) or any(
            not isinstance(values, list) or any(not isinstance(value, str) for value in values)
            for values in self.filters.values()
        ):
            raise ValidationError({"filters": "Filters are a mapping of names to lists of values."})
        self.columns = clean_columns(self.columns)


class CannedResponse(AuditedModel):
    """A ready-made reply an agent inserts and adapts: shared with a team, or personal."""

    title = models.CharField(max_length=100)
    body = models.TextField(help_text="Markdown.")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text="Set for a personal response; empty when it belongs to a team.",
    )

    class Meta:
        ordering = ("title", "id")
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=True) & Q(owner__isnull=False))
                | (Q(team__isnull=False) & Q(owner__isnull=True)),
                name="canned_response_team_or_personal",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if bool(self.team_id) == bool(self.owner_id):
            raise ValidationError({"team": "A response belongs to a team or to one person, not both."})
