"""Knowledge articles with their versions, files and feedback; the links that say an article
resolved a ticket, and the deflections: problems solved in the portal without a ticket."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from opsdesk.accounts.models import Team
from opsdesk.core.models import AuditedModel, TimeStampedModel
from opsdesk.core.uploads import random_upload_path
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.portfolio.models import Service
from opsdesk.tickets.models import Category, Problem, Ticket


class Article(AuditedModel):
    """A knowledge article: Markdown for people, rendered and sanitized once on every edit.

    Who reads it follows its audience (requesters: public and published; agents: internal too;
    a team's article: that team) and its status follows draft → in review → published → retired.
    """

    # Counters move on every view and vote; the audit trail records content, not traffic.
    audit_ignore = (
        *AuditedModel.audit_ignore,
        "view_count",
        "helpful_count",
        "not_helpful_count",
        "resolved_count",
        "deflection_count",
        "body_html",
    )

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False, help_text="Rendered and sanitized.")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.INTERNAL)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text="For the 'one team' audience.",
    )
    status = models.CharField(
        max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT, db_index=True
    )
    language = models.CharField(max_length=10, default="en", help_text="A language code: en, de, fr…")
    categories = models.ManyToManyField(Category, blank=True, related_name="articles")
    services = models.ManyToManyField(Service, blank=True, related_name="articles")
    tags = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_articles",
    )
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="reviewed_articles")
    review_by = models.DateField(null=True, blank=True, help_text="Reviewed again by this date.")
    review_flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the daily check found the review date passed."
    )
    problem = models.ForeignKey(
        Problem, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    current_version = models.PositiveIntegerField(default=0, editable=False)
    view_count = models.PositiveIntegerField(default=0, editable=False)
    helpful_count = models.PositiveIntegerField(default=0, editable=False)
    not_helpful_count = models.PositiveIntegerField(default=0, editable=False)
    resolved_count = models.PositiveIntegerField(default=0, editable=False)
    deflection_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ("-updated_at", "-id")
        indexes = [
            models.Index(fields=["status", "audience", "language"], name="article_reader_idx"),
            models.Index(fields=["status", "review_by"], name="article_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"KB{self.pk:05d}" if self.pk else "KB(new)"

    def get_absolute_url(self) -> str:
        return reverse("knowledge:detail", args=[self.pk])

    @property
    def votes(self) -> int:
        return self.helpful_count + self.not_helpful_count

    @property
    def helpful_ratio(self) -> float | None:
        return self.helpful_count / self.votes if self.votes else None

    def clean(self) -> None:
        if self.audience == Audience.TEAM and not self.team_id:
            raise ValidationError({"team": "Pick the team that may read this article."})
        if self.audience != Audience.TEAM and self.team_id:
            raise ValidationError({"team": "Only articles for one team name a team."})
        if not isinstance(self.tags, list) or not all(isinstance(tag, str) for tag in self.tags):
            raise ValidationError({"tags": "Tags are a list of words."})


class ArticleVersion(TimeStampedModel):
    """One saved state of an article: every edit adds one, numbered from 1; never changed."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("article", "-number")
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="unique_article_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.article.number} v{self.number}"


def _article_file_path(instance: ArticleAttachment, filename: str) -> str:
    return random_upload_path(f"knowledge/{instance.article_id}", filename)


class ArticleAttachment(AuditedModel):
    """A file or image of an article; images are shown in the text with ``![alt](its URL)``."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_article_file_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("article", "created_at")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("knowledge:file", args=[self.pk])

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class ArticleFeedback(TimeStampedModel):
    """One reader's verdict on an article (helpful or not, with a comment); changeable, one each."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ("-updated_at",)
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="one_feedback_per_reader")]

    def __str__(self) -> str:
        return f"{self.article.number}: {'helpful' if self.helpful else 'not helpful'} ({self.user})"


class TicketArticle(TimeStampedModel):
    """An article an agent used to resolve a ticket; the requester sees it if it is public."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at",)
        constraints = [models.UniqueConstraint(fields=["ticket", "article"], name="unique_ticket_article")]

    def __str__(self) -> str:
        return f"{self.ticket.number} ← {self.article.number}"


class Deflection(TimeStampedModel):
    """A requester whose problem an article solved before they raised a ticket."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    query = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.article.number} solved '{self.query}' for {self.user}"
