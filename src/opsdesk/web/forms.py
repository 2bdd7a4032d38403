"""Forms of the web shell: sign-in, password change, API tokens, log filters."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

TOKEN_LIFETIME_CHOICES = [("", "Never expires"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Check them and try again "
        "(passwords are case-sensitive).",
        "inactive": "This account is deactivated. Ask your service desk to reactivate it.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class PasswordChangeForm(forms.Form):
    """Asks for the current password so a borrowed, unlocked screen cannot change it."""

    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password and not only digits.",
    )
    new_password2 = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_old_password(self) -> str:
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("That is not your current password.")
        return value

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "The two new passwords differ.")
        return cleaned


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        initial="API token",
        help_text="Say what uses it, e.g. “monitoring script”, so you recognise it later.",
    )
    lifetime = forms.ChoiceField(choices=TOKEN_LIFETIME_CHOICES, required=False, label="Expires")
