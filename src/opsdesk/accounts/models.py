"""People and organisation: users and their roles, organisations, locations, support teams,
skills, working shifts and absences."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

from opsdesk.accounts.choices import (
    PRIVILEGED_ROLES,
    STAFF_ROLES,
    AbsenceKind,
    OrganizationKind,
    Presence,
    Role,
    SkillLevel,
    Tier,
    Weekday,
)
from opsdesk.accounts.validators import validate_time_zone
from opsdesk.core.models import AuditedModel
from opsdesk.core.querysets import RestrictedQuerySet

MAX_ORGANIZATION_DEPTH = 8


class Location(AuditedModel):
    """A site: an office, a data centre, a branch. Its time zone drives local times."""

    name = models.CharField(max_length=100, unique=True)
    address = models.TextField(blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166 code such as DE.")],
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:location_detail", args=[self.pk])


class Organization(AuditedModel):
    """A customer or a department; organisations nest (a division inside a company)."""

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(
        max_length=20, choices=OrganizationKind.choices, default=OrganizationKind.DEPARTMENT
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    email_domain = models.CharField(
        max_length=255, blank=True, help_text="Mail from this domain belongs here."
    )
    requesters_see_organization = models.BooleanField(
        default=False,
        help_text="Requesters of this organisation see each other's records, not only their own.",
    )
    is_vip = models.BooleanField("VIP", default=False)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:organization_detail", args=[self.pk])

    def clean(self) -> None:
        ancestor, depth = self.parent, 0
        while ancestor is not None:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError(
                    {"parent": "An organisation cannot sit inside itself or its own children."}
                )
            depth += 1
            if depth > MAX_ORGANIZATION_DEPTH:
                raise ValidationError(
                    {"parent": f"Organisations nest at most {MAX_ORGANIZATION_DEPTH} levels deep."}
                )
            ancestor = ancestor.parent


class UserManager(DjangoUserManager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser, AuditedModel):
    """Anyone who signs in: requesters and support staff; the role decides what they can do."""

    email = models.EmailField("e-mail address", blank=True, db_index=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REQUESTER, db_index=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    job_title = models.CharField(max_length=100, blank=True)
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        help_text="Approves their requests where a catalogue item asks the requester's manager.",
    )
    phone = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=10, default="en")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_vip = models.BooleanField("VIP", default=False)
    presence = models.CharField(max_length=20, choices=Presence.choices, default=Presence.AVAILABLE)

    objects = UserManager()

    audit_redact = ("password",)
    audit_ignore = ("created_at", "updated_at", "version", "last_login")

    class Meta:
        ordering = ("username",)
        indexes = [models.Index(fields=["organization", "role"], name="user_org_role_idx")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        return reverse("accounts:user_detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        if self.manager_id and self.manager_id == self.pk:
            raise ValidationError(
                {"manager": "Nobody is their own manager: they would approve their own requests."}
            )

    # --- what the role allows, read by the permission layer -------------------------
    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def can_write_all(self) -> bool:
        return self.is_active and self.is_admin

    @property
    def can_read_all(self) -> bool:
        return self.is_active and (self.is_admin or self.role in (Role.AUDITOR, Role.MANAGER))

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.AUDITOR and not self.is_superuser

    @property
    def is_agent(self) -> bool:
        """Works in the service desk (any staff role), as opposed to a requester."""
        return self.is_superuser or self.role in STAFF_ROLES

    @property
    def is_requester(self) -> bool:
        return not self.is_agent

    @property
    def is_manager(self) -> bool:
        return self.is_admin or self.role == Role.MANAGER

    @property
    def has_privileged_role(self) -> bool:
        return self.role in PRIVILEGED_ROLES


class Team(AuditedModel):
    """A support group: who works a tier of support, led by a team lead, reachable by e-mail."""

    name = models.CharField(max_length=100, unique=True)
    tier = models.CharField(max_length=2, choices=Tier.choices, default=Tier.L1)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    lead = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams")
    members = models.ManyToManyField(User, through="TeamMembership", related_name="teams", blank=True)

    class Meta:
        ordering = ("tier", "name")

    def __str__(self) -> str:
        return f"{self.name} ({self.tier})"

    def get_absolute_url(self) -> str:
        return reverse("accounts:team_detail", args=[self.pk])

    def clean(self) -> None:
        if self.lead_id and not self.lead.is_agent:
            raise ValidationError({"lead": "A team lead must be a member of support staff, not a requester."})


class TeamMembership(AuditedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="team_memberships")

    class Meta:
        ordering = ("team", "user")
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="unique_team_member")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"

    def clean(self) -> None:
        if self.user_id and not self.user.is_agent:
            raise ValidationError({"user": "Only support staff can join a support team."})


class Skill(AuditedModel):
    """Something an agent can be good at: a product, a platform, a language."""

    name = models.CharField(max_length=100, unique=True)
    category = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ("category", "name")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:skill_detail", args=[self.pk])


class AgentSkill(AuditedModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="holders")
    level = models.PositiveSmallIntegerField(choices=SkillLevel.choices, default=SkillLevel.PRACTITIONER)

    class Meta:
        ordering = ("skill", "-level")
        constraints = [models.UniqueConstraint(fields=["user", "skill"], name="unique_agent_skill")]

    def __str__(self) -> str:
        return f"{self.user}: {self.skill} ({self.level})"


class Shift(AuditedModel):
    """A weekly working shift, in the agent's own time zone. An end before the start runs past midnight."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ("user", "weekday", "starts")

    def __str__(self) -> str:
        return f"{self.user}: {self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"

    def clean(self) -> None:
        if self.starts == self.ends:
            raise ValidationError({"ends": "A shift must end at a different time than it starts."})


class Absence(AuditedModel):
    """Time an agent is away: out of office, holiday, sick, training."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="absences")
    kind = models.CharField(max_length=20, choices=AbsenceKind.choices, default=AbsenceKind.OUT_OF_OFFICE)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("-starts_at",)
        indexes = [models.Index(fields=["user", "ends_at"], name="absence_user_end_idx")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "An absence must end after it starts."})


class ApiToken(AuditedModel):
    """A personal API token. Only a SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="API token")
    prefix = models.CharField(
        max_length=12, db_index=True, help_text="First characters, to recognise a token."
    )
    digest = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    audit_redact = ("digest",)
    audit_ignore = ("created_at", "updated_at", "version", "last_used_at")

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
