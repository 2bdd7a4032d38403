"""Forms of the knowledge base screens. They validate input; the services decide and write."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from opsdesk.accounts.choices import STAFF_ROLES
from opsdesk.accounts.models import Team, User
from opsdesk.core.views import restrict_choice_fields, style_form
from opsdesk.knowledge.choices import Audience
from opsdesk.knowledge.models import Article

ARTICLE_NUMBER = re.compile(r"^\s*(?:KB)?0*(\d{1,9})\s*$", re.IGNORECASE)


class ArticleForm(forms.ModelForm):
    """Write or edit an article: Markdown text, who reads it, where it belongs, who reviews it."""

    tags = forms.CharField(required=False, help_text="Comma separated, e.g. vpn, remote work.")
    note = forms.CharField(
        required=False, max_length=300, label="What changed", help_text="Kept with this version."
    )

    class Meta:
        model = Article
        fields = (
            "title",
            "body",
            "audience",
            "team",
            "language",
            "categories",
            "services",
            "tags",
            "owner",
            "reviewers",
            "review_by",
        )
        widgets = {
            "body": forms.Textarea(attrs={"rows": 16, "class": "font-monospace"}),
            "review_by": forms.DateInput(attrs={"type": "date"}),
            "categories": forms.SelectMultiple(attrs={"size": 5}),
            "services": forms.SelectMultiple(attrs={"size": 5}),
            "reviewers": forms.SelectMultiple(attrs={"size": 5}),
        }
        help_texts = {
            "body": "Markdown. Show an attached image with ![description](its link from the Files list).",
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        restrict_choice_fields(self, user)
        staff = User.objects.restrict(user, "view").filter(role__in=sorted(STAFF_ROLES), is_active=True)
        self.fields["owner"].queryset = staff
        self.fields["reviewers"].queryset = staff
        self.fields["team"].queryset = Team.objects.restrict(user, "view")
        self.fields["owner"].required = False
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags or [])
        style_form(self)

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return [tag.strip() for tag in raw.split(",") if tag.strip()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("audience") == Audience.TEAM and not cleaned.get("team"):
            self.add_error("team", "Pick the team that may read this article.")
        if cleaned.get("audience") != Audience.TEAM:
            cleaned["team"] = None
        return cleaned

    def _post_clean(self) -> None:
        # The services validate the model (and render the text); skip ModelForm's instance checks
        # so a half-edited form never touches the article.
        pass


class FeedbackForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=(("yes", "Yes"), ("no", "No")), coerce=lambda value: value == "yes", widget=forms.HiddenInput
    )
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Anything to add?",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_form(self)


class AttachForm(forms.Form):
    file = forms.FileField(label="File or image")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_form(self, small=True)


class LinkArticleForm(forms.Form):
    article = forms.CharField(max_length=20, label="Article", help_text="Its number, e.g. KB00012.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_form(self, small=True)

    def clean_article(self) -> int:
        match = ARTICLE_NUMBER.match(self.cleaned_data["article"])
        if not match:
            raise forms.ValidationError("Give an article number such as KB00012.")
        return int(match.group(1))


class PublishKnownErrorForm(forms.Form):
    audience = forms.ChoiceField(
        choices=((Audience.INTERNAL, "Internal (service desk)"), (Audience.PUBLIC, "Public (requesters)"))
    )
    publish = forms.BooleanField(required=False, initial=True, label="Publish now (otherwise a draft)")
