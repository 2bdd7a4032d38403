"""Forms of the learning screens. Drop-downs offer only what the actor may use: the people they
look after, the teams they lead, the articles they can read."""

from __future__ import annotations

from django import forms

from opsdesk.accounts.forms import PersonChoiceMixin, people_actor_maintains
from opsdesk.accounts.models import Team, User
from opsdesk.knowledge.models import Article
from opsdesk.learning.models import (
    Certification,
    LearningPath,
    LearningPathAssignment,
    LearningPathStep,
    TrainingRecord,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TrainingRecordForm(PersonChoiceMixin, forms.ModelForm):
    include_self = True

    class Meta:
        model = TrainingRecord
        fields = (
            "user",
            "title",
            "provider",
            "completed_on",
            "hours",
            "skill",
            "level_reached",
            "evidence",
            "notes",
        )
        widgets = {"completed_on": DATE, "notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "level_reached": "Raises the person's level of this skill (confirmed by their team lead).",
            "evidence": "A certificate or attendance record: PDF, PNG, JPEG or text.",
        }


class CertificationForm(PersonChoiceMixin, forms.ModelForm):
    include_self = True

    class Meta:
        model = Certification
        fields = ("user", "name", "issuer", "certificate_id", "issued_on", "expires_on", "skill")
        widgets = {"issued_on": DATE, "expires_on": DATE}


class LearningPathForm(forms.ModelForm):
    class Meta:
        model = LearningPath
        fields = ("name", "description", "is_active")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class LearningPathStepForm(forms.ModelForm):
    def __init__(self, *args, actor: User, path: LearningPath, **kwargs):
        super().__init__(*args, **kwargs)
        self.path = path
        self.instance.path = path
        self.fields["article"].queryset = Article.objects.restrict(actor, "view").order_by("title")
        self.fields["position"].required = False
        self.fields["position"].help_text = "Leave empty to add it last."

    class Meta:
        model = LearningPathStep
        fields = ("position", "article", "note")


class LearningPathAssignmentForm(forms.ModelForm):
    def __init__(self, *args, actor: User, path: LearningPath, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.path = path
        self.fields["user"].queryset = people_actor_maintains(actor, include_self=False)
        self.fields["user"].label = "Person"
        teams = Team.objects.restrict(actor, "view")
        self.fields["team"].queryset = teams if actor.is_manager else teams.filter(lead=actor)
        self.fields["team"].help_text = "Everyone in the team has the path, including people who join later."

    class Meta:
        model = LearningPathAssignment
        fields = ("user", "team", "due_on")
        widgets = {"due_on": DATE}

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("user")) == bool(cleaned.get("team")):
            raise forms.ValidationError("Choose one person or one team.")
        return cleaned
