"""The forms of the service desk screens. They validate input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms

from opsdesk.accounts.choices import STAFF_ROLES
from opsdesk.accounts.models import Team, TeamMembership, User
from opsdesk.portfolio.choices import ServiceType, Stage
from opsdesk.portfolio.models import Service
from opsdesk.tickets.choices import (
    AssignmentStrategy,
    EscalationKind,
    Level,
    PendingReason,
    Priority,
    ResolutionCode,
    Status,
    TicketType,
)
from opsdesk.tickets.models import CannedResponse, Category, Problem, SavedView
from opsdesk.tickets.services.surveys import RATINGS

MAX_BULK = 100
NUMBER_LENGTH = 16

# Requesters describe the situation in their own words, not in ITIL terms.
KIND_CHOICES = [
    (TicketType.INCIDENT, "Something is broken"),
    (TicketType.REQUEST, "I need something"),
]
IMPACT_CHOICES = [
    (Level.LOW, "Just me"),
    (Level.MEDIUM, "My team or several people"),
    (Level.HIGH, "Everyone, or a whole site"),
]
URGENCY_CHOICES = [
    (Level.LOW, "It can wait a few days"),
    (Level.MEDIUM, "It slows my work down"),
    (Level.HIGH, "I cannot work at all"),
]
RATING_LABELS = {1: "very poor", 2: "poor", 3: "fine", 4: "good", 5: "excellent"}
RATING_CHOICES = [(rating, f"{rating} — {RATING_LABELS[rating]}") for rating in RATINGS]


def catalogue_services(user: Any):
    """The services a requester can ask about: published in the catalogue, not technical."""
    return (
        Service.objects.restrict(user, "view")
        .filter(stage=Stage.CATALOGUE)
        .exclude(type=ServiceType.TECHNICAL)
        .order_by("name")
    )


def agents_of(team: Team | None):
    """The agents a ticket of ``team`` can go to: its members."""
    if team is None:
        return User.objects.none()
    return User.objects.filter(pk__in=TeamMembership.objects.filter(team=team).values("user_id")).order_by(
        "first_name", "last_name", "username"
    )


class TicketCreateForm(forms.Form):
    type = forms.ChoiceField(
        label="What is it about?", choices=KIND_CHOICES, widget=forms.RadioSelect, initial=TicketType.INCIDENT
    )
    service = forms.ModelChoiceField(
        label="Which service is it about?",
        queryset=Service.objects.none(),
        required=False,
        empty_label="I don't know / something else",
    )
    title = forms.CharField(label="In a few words", max_length=200)
    description = forms.CharField(
        label="Tell us more",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=(
            "What happened, what you expected, any error message. For a request: what you need and by when."
        ),
    )
    impact = forms.TypedChoiceField(
        label="Who is affected?", choices=IMPACT_CHOICES, coerce=int, initial=Level.LOW
    )
    urgency = forms.TypedChoiceField(
        label="How much does it hold you up?", choices=URGENCY_CHOICES, coerce=int, initial=Level.LOW
    )
    attachment = forms.FileField(
        label="Add a screenshot or a file",
        required=False,
        help_text="Optional: a picture, PDF, text or office file.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = catalogue_services(user)


class TicketFieldsForm(forms.Form):
    """The details an agent corrects; the priority follows impact and urgency."""

    title = forms.CharField(max_length=200)
    service = forms.ModelChoiceField(queryset=Service.objects.none(), required=False, empty_label="Not set")
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label="Not set")
    impact = forms.TypedChoiceField(choices=Level.choices, coerce=int)
    urgency = forms.TypedChoiceField(choices=Level.choices, coerce=int)
    tags = forms.CharField(required=False, help_text="Separated by commas.")
    is_major = forms.BooleanField(label="Major incident", required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.restrict(user, "view").order_by("name")
        self.fields["category"].queryset = (
            Category.objects.restrict(user, "view").filter(is_active=True).select_related("parent")
        )

    def clean_tags(self) -> list[str]:
        return [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none())
    assignee = forms.ModelChoiceField(
        label="Agent", queryset=User.objects.none(), required=False, empty_label="Anyone in the team"
    )
    reason = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: Any, user: Any, team: Team | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.restrict(user, "view")
        chosen = team
        if self.is_bound:
            chosen = self.fields["team"].queryset.filter(pk=self.data.get("team") or None).first() or team
        # Any agent may be posted (the service checks membership); the list shows the team's.
        self.fields["assignee"].queryset = (
            User.objects.restrict(user, "view").filter(role__in=sorted(STAFF_ROLES))
            if self.is_bound
            else agents_of(chosen)
        )


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    resolution_code = forms.ChoiceField(
        label="How was it solved?", choices=[("", "—"), *ResolutionCode.choices], required=False
    )
    resolution_notes = forms.CharField(
        label="What was done", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    pending_reason = forms.ChoiceField(
        label="Waiting on", choices=[("", "—"), *PendingReason.choices], required=False
    )
    note = forms.CharField(required=False, max_length=2000)
    resolve_children = forms.BooleanField(required=False)


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    public = forms.BooleanField(required=False)


class WorklogForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=24 * 60, label="Minutes spent")
    note = forms.CharField(required=False, max_length=500, label="What you did")


class AttachForm(forms.Form):
    file = forms.FileField()
    public = forms.BooleanField(required=False, initial=True, label="The requester may see it")


class TicketNumberForm(forms.Form):
    number = forms.CharField(max_length=NUMBER_LENGTH, required=False, label="Ticket number")

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip().upper()


class ProblemLinkForm(forms.Form):
    problem = forms.CharField(max_length=NUMBER_LENGTH, label="Problem number")

    def clean_problem(self) -> str:
        return self.cleaned_data["problem"].strip().upper()


BULK_ACTIONS = [
    ("assign", "Assign"),
    ("status", "Change status"),
    ("priority", "Set impact and urgency"),
    ("merge", "Merge into"),
]


class BulkForm(forms.Form):
    tickets = forms.MultipleChoiceField(choices=[])
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    status = forms.ChoiceField(choices=[("", "—"), *Status.choices], required=False)
    resolution_code = forms.ChoiceField(choices=[("", "—"), *ResolutionCode.choices], required=False)
    pending_reason = forms.ChoiceField(choices=[("", "—"), *PendingReason.choices], required=False)
    impact = forms.TypedChoiceField(choices=[("", "—"), *Level.choices], coerce=int, required=False)
    urgency = forms.TypedChoiceField(choices=[("", "—"), *Level.choices], coerce=int, required=False)
    into = forms.CharField(max_length=NUMBER_LENGTH, required=False)
    next = forms.CharField(required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        numbers = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        self.fields["tickets"].choices = [(number, number) for number in numbers[:MAX_BULK]]
        self.fields["team"].queryset = Team.objects.restrict(user, "view")
        self.fields["assignee"].queryset = User.objects.restrict(user, "view").filter(
            role__in=sorted(STAFF_ROLES)
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        needs = {
            "assign": ("team", "Choose the team to assign to."),
            "status": ("status", "Choose the new status."),
            "merge": ("into", "Give the number of the ticket to merge into."),
        }
        if action in needs and not data.get(needs[action][0]):
            self.add_error(needs[action][0], needs[action][1])
        if action == "priority" and not (data.get("impact") and data.get("urgency")):
            self.add_error("impact", "Choose the impact and the urgency.")
        if len(self.data.getlist("tickets")) > MAX_BULK:
            self.add_error("tickets", f"At most {MAX_BULK} tickets at once.")
        return data


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How did we do?", choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label="Anything to add?", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    reopen = forms.BooleanField(label="The problem is not solved: reopen my ticket", required=False)


class RatingCommentForm(forms.Form):
    comment = forms.CharField(
        label="Anything to add? (optional)", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ("name",)


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ("title", "body", "team")
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
        help_texts = {"team": "Share it with a team you belong to, or leave empty to keep it for yourself."}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["team"].required = False
        self.fields["team"].empty_label = "Only me"
        self.fields["team"].queryset = Team.objects.restrict(user, "view").filter(
            pk__in=TeamMembership.objects.filter(user=user).values("team_id")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Without a team the response is personal: its author's (kept when someone else edits it).
        if data.get("team"):
            self.instance.owner = None
        elif self.instance.owner_id is None:
            self.instance.owner = self.user
        return data


class ProblemForm(forms.ModelForm):
    class Meta:
        model = Problem
        fields = (
            "title",
            "description",
            "status",
            "priority",
            "service",
            "category",
            "assigned_team",
            "root_cause",
            "workaround",
            "known_error",
        )
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "root_cause": forms.Textarea(attrs={"rows": 3}),
            "workaround": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"known_error": "Known error (root cause and workaround are known)"}


# --- desk settings -------------------------------------------------------------------------------
class RuleBasicsForm(forms.Form):
    """What every rule has; its conditions are edited as rows beside the form."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=300, required=False)
    position = forms.IntegerField(
        min_value=0, initial=100, help_text="Rules are tried from the lowest position up."
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)


class RoutingRuleForm(RuleBasicsForm):
    stop_processing = forms.BooleanField(
        label="Stop here when this rule matches (later rules are not tried)", required=False, initial=True
    )
    team = forms.ModelChoiceField(
        label="Send to team", queryset=Team.objects.none(), required=False, empty_label="Keep the team"
    )
    assignee = forms.ModelChoiceField(
        label="Give to agent",
        queryset=User.objects.none(),
        required=False,
        empty_label="Let the team's strategy pick",
        help_text="A member of the team above.",
    )
    priority = forms.TypedChoiceField(
        label="Set priority",
        choices=[("", "Keep the priority"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    category = forms.ModelChoiceField(
        label="Set category",
        queryset=Category.objects.none(),
        required=False,
        empty_label="Keep the category",
    )
    tags = forms.CharField(label="Add tags", required=False, max_length=500, help_text="Separated by commas.")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.restrict(user, "view").order_by("name")
        self.fields["assignee"].queryset = (
            User.objects.restrict(user, "view")
            .filter(role__in=sorted(STAFF_ROLES), is_active=True)
            .order_by("first_name", "last_name", "username")
        )
        self.fields["category"].queryset = (
            Category.objects.restrict(user, "view").filter(is_active=True).select_related("parent")
        )

    def actions(self) -> dict[str, Any]:
        """The rule's actions as the service takes them: only what the admin chose."""
        data = self.cleaned_data
        actions: dict[str, Any] = {}
        if data.get("team"):
            actions["team"] = data["team"].pk
        if data.get("assignee"):
            actions["assignee"] = data["assignee"].pk
        if data.get("priority"):
            actions["priority"] = data["priority"]
        if data.get("category"):
            actions["category"] = data["category"].pk
        tags = [tag.strip() for tag in data.get("tags", "").split(",") if tag.strip()]
        if tags:
            actions["tags"] = tags
        return actions


class EscalationRuleForm(RuleBasicsForm):
    kind = forms.ChoiceField(choices=EscalationKind.choices, initial=EscalationKind.FUNCTIONAL)
    raise_priority = forms.BooleanField(
        label="Also raise the priority one level", required=False, help_text="P3 becomes P2; P1 stays P1."
    )


class MatrixStepForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.none(), required=False, empty_label="Any service"
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Any priority"), *Priority.choices], coerce=int, empty_value=None, required=False
    )
    level = forms.IntegerField(min_value=1, max_value=10, initial=1, help_text="1 is the first escalation.")
    team = forms.ModelChoiceField(
        label="Move the ticket to", queryset=Team.objects.none(), required=False, empty_label="Keep the team"
    )
    notify_team_lead = forms.BooleanField(label="Notify the team lead", required=False)
    notify_users = forms.ModelMultipleChoiceField(
        label="Also notify", queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.restrict(user, "view").order_by("name")
        self.fields["team"].queryset = Team.objects.restrict(user, "view").order_by("tier", "name")
        self.fields["notify_users"].queryset = (
            User.objects.restrict(user, "view")
            .filter(role__in=sorted(STAFF_ROLES), is_active=True)
            .order_by("first_name", "last_name", "username")
        )


class QueueStrategyForm(forms.Form):
    strategy = forms.ChoiceField(label="Assignment", choices=AssignmentStrategy.choices)


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("name", "parent", "description", "is_active", "required_skill", "min_skill_level")
        labels = {"required_skill": "Skill needed (skills-based assignment)", "min_skill_level": "At least"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parents = Category.objects.filter(parent__isnull=True)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["parent"].empty_label = "None: a top-level category"
        self.fields["required_skill"].empty_label = "No particular skill"


class EscalateForm(forms.Form):
    kind = forms.ChoiceField(
        choices=EscalationKind.choices, initial=EscalationKind.FUNCTIONAL, widget=forms.RadioSelect
    )
    team = forms.ModelChoiceField(
        label="To team",
        queryset=Team.objects.none(),
        required=False,
        empty_label="The next team of its path",
        help_text="Functional only.",
    )
    reason = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.restrict(user, "view").order_by("tier", "name")


class RuleTestForm(forms.Form):
    ticket = forms.CharField(label="Ticket number", max_length=NUMBER_LENGTH)

    def clean_ticket(self) -> str:
        return self.cleaned_data["ticket"].strip().upper()
