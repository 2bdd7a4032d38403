"""What people can order, who approves each order and who fulfils it.

An item's form is a JSON list of field definitions (``formspec.py`` validates it and the
answers); an order is a service request ticket with one ``CatalogRequest`` beside it holding
the answers, the price and the expected date at the time of ordering; ``Approval`` rows are
the approvers' decisions, one per approver per step; ``RequestTask`` rows are the fulfilment
plan's tasks, worked by teams."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from opsdesk.accounts.models import Organization, Team
from opsdesk.catalog.choices import ApprovalState, ApproverKind, RequestState, TaskState
from opsdesk.catalog.constants import DEFAULT_ESCALATE_AFTER_HOURS, DEFAULT_REMIND_AFTER_HOURS
from opsdesk.core.models import AuditedModel
from opsdesk.portfolio.models import Offering
from opsdesk.tickets.models import Category, Ticket


class CatalogCategory(AuditedModel):
    """A shelf of the catalogue people browse: Hardware, Access, Software…"""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("position", "name")
        verbose_name_plural = "catalog categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:browse") + f"?category={self.slug}"


class ApprovalGroup(AuditedModel):
    """A named set of people any N of whom may approve a step (Finance approvers, CAB…)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="approval_groups")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:group_edit", args=[self.pk])


class CatalogItem(AuditedModel):
    """Something people can order, offered by a service offering, with its form, price,
    expected delivery time and who may order it."""

    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="catalog_items")
    category = models.ForeignKey(CatalogCategory, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    summary = models.CharField(
        max_length=300, blank=True, help_text="One line shown on the catalogue's cards."
    )
    description = models.TextField(blank=True, help_text="Markdown.")
    picture = models.ImageField(upload_to="catalog/pictures/", blank=True, max_length=300)
    price = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default="EUR")
    delivery_days = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(365)],
        help_text="Expected delivery time in business days of the service's hours, once approved.",
    )
    form = models.JSONField(
        default=list, blank=True, help_text="The order form's fields (see docs/catalog.md)."
    )
    organizations = models.ManyToManyField(
        Organization,
        blank=True,
        related_name="catalog_items",
        help_text="Who may order it; none means everyone.",
    )
    roles = models.JSONField(
        default=list, blank=True, help_text="Roles that may order it; empty means every role."
    )
    allow_on_behalf = models.BooleanField(
        default=True, help_text="People may order it for a colleague of their organisation."
    )
    ticket_category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Of the request ticket.",
    )
    fulfilment_team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Coordinates the request; its tasks go to the plan's teams.",
    )
    is_active = models.BooleanField(default=True, db_index=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("category__position", "position", "name")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:item", args=[self.slug])

    @property
    def service(self):
        return self.offering.service


class ApprovalStep(AuditedModel):
    """One level of an item's approval: steps run in ``position`` order; inside a step, the
    approvers decide in parallel and ``required`` of them must approve (N of M)."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="approval_steps")
    position = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, choices=ApproverKind.choices)
    group = models.ForeignKey(
        ApprovalGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="steps"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    required = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Approvals needed (N of the group's M)."
    )
    remind_after_hours = models.PositiveSmallIntegerField(default=DEFAULT_REMIND_AFTER_HOURS)
    escalate_after_hours = models.PositiveSmallIntegerField(
        default=DEFAULT_ESCALATE_AFTER_HOURS, help_text="Then the approver's manager is asked too (0: never)."
    )

    class Meta:
        ordering = ("item", "position")
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="one_approval_step_per_position")
        ]

    def __str__(self) -> str:
        return self.name or self.get_kind_display()


class TaskTemplate(AuditedModel):
    """A task of an item's fulfilment plan. Stages run in order; the tasks of one stage run in
    parallel. Each task goes to a team and has its own target in business minutes."""

    item = models.ForeignKey(CatalogItem, on_delete=models.CASCADE, related_name="task_templates")
    stage = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=150)
    instructions = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    target_minutes = models.PositiveIntegerField(
        default=480, validators=[MinValueValidator(1)], help_text="Business minutes from the task's opening."
    )

    class Meta:
        ordering = ("item", "stage", "pk")

    def __str__(self) -> str:
        return self.name


class CatalogRequest(AuditedModel):
    """An order: the service request ticket it became, what was asked and where it stands."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="catalog_request")
    item = models.ForeignKey(CatalogItem, on_delete=models.PROTECT, related_name="requests")
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="catalog_requests"
    )
    form = models.JSONField(default=list, help_text="The form as it was when ordered.")
    answers = models.JSONField(default=dict)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=20, choices=RequestState.choices, db_index=True)
    expected_at = models.DateTimeField(
        null=True, blank=True, help_text="Delivery date expected when ordered."
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=["item", "created_at"], name="catalog_request_item_idx")]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.item}"

    def get_absolute_url(self) -> str:
        return self.ticket.get_absolute_url()


class Approval(AuditedModel):
    """One approver's part in one step of one request."""

    request = models.ForeignKey(CatalogRequest, on_delete=models.CASCADE, related_name="approvals")
    step = models.PositiveSmallIntegerField(help_text="The step's position.")
    step_name = models.CharField(max_length=100)
    # The step's kind and group as they were when the request was ordered: the figures group
    # approval waits by them, and later edits of the item's steps must not regroup the past.
    step_kind = models.CharField(max_length=20, choices=ApproverKind.choices, blank=True)
    step_group = models.ForeignKey(
        ApprovalGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="approvals"
    )
    required = models.PositiveSmallIntegerField(default=1)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals")
    delegated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    state = models.CharField(max_length=10, choices=ApprovalState.choices, default=ApprovalState.WAITING)
    requested_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ("request", "step", "pk")
        indexes = [
            models.Index(fields=["approver", "state"], name="approval_inbox_idx"),
            models.Index(
                fields=["remind_at"],
                name="approval_remind_idx",
                condition=Q(state="pending", reminded_at=None),
            ),
            models.Index(
                fields=["escalate_at"],
                name="approval_escalate_idx",
                condition=Q(state="pending", escalated_at=None),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "step", "approver"], name="one_approval_per_approver_and_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request.ticket.number} step {self.step}: {self.approver}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:approval", args=[self.pk])


class ApprovalDelegation(AuditedModel):
    """While ``approver`` is away, ``delegate`` decides in their place."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations"
    )
    delegate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("approver", "starts_on")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="delegation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(approver=models.F("delegate")), name="delegation_not_to_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver} → {self.delegate} ({self.starts_on}–{self.ends_on})"


class RequestTask(AuditedModel):
    """A fulfilment task of one request, in a team's queue with its own target."""

    request = models.ForeignKey(CatalogRequest, on_delete=models.CASCADE, related_name="tasks")
    number = models.CharField(max_length=20, unique=True)
    stage = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=150)
    instructions = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="request_tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="request_tasks",
    )
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.WAITING)
    target_minutes = models.PositiveIntegerField()
    opened_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="What was done.")

    class Meta:
        ordering = ("request", "stage", "pk")
        indexes = [models.Index(fields=["team", "state", "due_at"], name="request_task_queue_idx")]

    def __str__(self) -> str:
        return f"{self.number}: {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:task", args=[self.number])
