"""Support learning: what agents trained in and are certified for, the reading paths a lead
sets them, and what they have completed."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from opsdesk.accounts.choices import SkillLevel
from opsdesk.accounts.models import Skill, Team
from opsdesk.core.models import AuditedModel
from opsdesk.learning.choices import CertificationStatus
from opsdesk.learning.constants import MAX_TRAINING_HOURS


class TrainingRecord(AuditedModel):
    """A course an agent completed. With a skill and the level it brought them to, the agent's
    skill level is raised (by whoever may maintain the agent's skills) so routing knows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_records"
    )
    title = models.CharField("course", max_length=200)
    provider = models.CharField(max_length=200, blank=True)
    completed_on = models.DateField()
    hours = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_TRAINING_HOURS)],
    )
    evidence = models.FileField(upload_to="learning/evidence/%Y/%m/", blank=True, max_length=300)
    skill = models.ForeignKey(
        Skill,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The skill it trains.",
    )
    level_reached = models.PositiveSmallIntegerField(choices=SkillLevel.choices, null=True, blank=True)
    skill_applied_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the level reached was written to the agent's skills.",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ("-completed_on", "-id")
        indexes = [models.Index(fields=["user", "-completed_on"], name="training_user_idx")]
        constraints = [models.CheckConstraint(condition=Q(hours__gte=0), name="training_hours_not_negative")]

    def __str__(self) -> str:
        return f"{self.title} ({self.user})"

    def get_absolute_url(self) -> str:
        return reverse("learning:trainingrecord_detail", args=[self.pk])

    @property
    def skill_pending(self) -> bool:
        return bool(self.skill_id and self.level_reached and self.skill_applied_at is None)

    def clean(self) -> None:
        errors = {}
        if self.hours is not None and self.hours < 0:
            errors["hours"] = "Hours cannot be negative."
        if self.completed_on and self.completed_on > timezone.localdate() + datetime.timedelta(days=1):
            errors["completed_on"] = "A course cannot be completed in the future."
        if self.level_reached and not self.skill_id:
            errors["skill"] = "Say which skill the level reached is for."
        if errors:
            raise ValidationError(errors)


class Certification(AuditedModel):
    """A certificate an agent holds. ``status`` is kept by the daily sweep (and on every save);
    ``reminded_for`` is the expiry date a reminder went out for, so each window is reminded once
    and a renewal (a new expiry date) is reminded again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certifications"
    )
    name = models.CharField(max_length=200)
    issuer = models.CharField(max_length=200, blank=True)
    certificate_id = models.CharField("certificate id", max_length=100, blank=True)
    issued_on = models.DateField()
    expires_on = models.DateField(
        null=True, blank=True, help_text="Empty for a certificate that never expires."
    )
    status = models.CharField(
        max_length=10, choices=CertificationStatus.choices, default=CertificationStatus.VALID, editable=False
    )
    reminded_for = models.DateField(null=True, blank=True, editable=False)
    skill = models.ForeignKey(Skill, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("expires_on", "name", "id")
        indexes = [
            models.Index(fields=["status", "expires_on"], name="cert_status_expiry_idx"),
            models.Index(fields=["user", "expires_on"], name="cert_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("issued_on")),
                name="cert_expires_after_issue",
            ),
            models.UniqueConstraint(
                fields=["issuer", "certificate_id"],
                condition=~Q(certificate_id=""),
                name="unique_certificate_id_per_issuer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    def get_absolute_url(self) -> str:
        return reverse("learning:certification_detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.issued_on and self.expires_on and self.expires_on <= self.issued_on:
            errors["expires_on"] = "A certification must expire after the day it was issued."
        if self.issued_on and self.issued_on > timezone.localdate() + datetime.timedelta(days=1):
            errors["issued_on"] = "A certification cannot be issued in the future."
        if errors:
            raise ValidationError(errors)

    def days_left(self, today: datetime.date | None = None) -> int | None:
        if self.expires_on is None:
            return None
        return (self.expires_on - (today or timezone.localdate())).days


class LearningPath(AuditedModel):
    """An ordered reading list of knowledge articles, assigned to agents or whole teams."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="learning_paths",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive paths are kept but no longer assigned.")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("learning:learningpath_detail", args=[self.pk])


class LearningPathStep(AuditedModel):
    """One article of a path, at a position (1, 2, …; unique within the path)."""

    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(10_000)])
    article = models.ForeignKey("knowledge.Article", on_delete=models.PROTECT, related_name="learning_steps")
    note = models.CharField(max_length=300, blank=True, help_text="What to take away from this article.")

    class Meta:
        ordering = ("path", "position")
        constraints = [
            models.UniqueConstraint(fields=["path", "position"], name="unique_step_position"),
            models.UniqueConstraint(fields=["path", "article"], name="unique_step_article"),
        ]

    def __str__(self) -> str:
        return f"{self.path} #{self.position}: {self.article}"

    def get_absolute_url(self) -> str:
        return self.path.get_absolute_url()

    def validate_unique(self, exclude=None) -> None:
        # Say which position is taken, in words a lead understands (before the generic message).
        siblings = LearningPathStep.objects.filter(path_id=self.path_id).exclude(pk=self.pk)
        if self.path_id and self.position and siblings.filter(position=self.position).exists():
            raise ValidationError({"position": f"Position {self.position} is already taken in this path."})
        if self.path_id and self.article_id and siblings.filter(article_id=self.article_id).exists():
            raise ValidationError({"article": "This article is already a step of this path."})
        super().validate_unique(exclude=exclude)


class LearningPathAssignment(AuditedModel):
    """A path set for one agent or for a whole team, by a due date.

    A team assignment is expanded when read: whoever is in the team now has the path (a new
    member gets it on joining, one who leaves drops it; their completions stay)."""

    path = models.ForeignKey(LearningPath, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="learning_assignments",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="learning_assignments"
    )
    due_on = models.DateField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ("due_on", "id")
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="assignment_user_xor_team",
            ),
            models.UniqueConstraint(
                fields=["path", "user"], condition=Q(user__isnull=False), name="unique_path_user"
            ),
            models.UniqueConstraint(
                fields=["path", "team"], condition=Q(team__isnull=False), name="unique_path_team"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.path} → {self.user or self.team}"

    def get_absolute_url(self) -> str:
        return self.path.get_absolute_url()

    def clean(self) -> None:
        if bool(self.user_id) == bool(self.team_id):
            raise ValidationError("Assign the path to one person or to one team.")
        if self.user_id and not self.user.is_agent:
            raise ValidationError({"user": "Learning paths are for support staff, not requesters."})
        if self.path_id and not self.path.is_active and self._state.adding:
            raise ValidationError({"path": "This path is inactive; activate it before assigning it."})
        siblings = LearningPathAssignment.objects.filter(path_id=self.path_id).exclude(pk=self.pk)
        if self.user_id and siblings.filter(user_id=self.user_id).exists():
            raise ValidationError({"user": "This person already has this path."})
        if self.team_id and siblings.filter(team_id=self.team_id).exists():
            raise ValidationError({"team": "This team already has this path."})


class StepCompletion(AuditedModel):
    """An agent has read one step of a path."""

    step = models.ForeignKey(LearningPathStep, on_delete=models.CASCADE, related_name="completions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="step_completions"
    )
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-completed_at", "-id")
        constraints = [models.UniqueConstraint(fields=["step", "user"], name="unique_step_completion")]

    def __str__(self) -> str:
        return f"{self.user} read {self.step}"

    def get_absolute_url(self) -> str:
        return self.step.path.get_absolute_url()
