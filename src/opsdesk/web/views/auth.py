"""Signing in and out, changing one's password, and the lockout page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from opsdesk.accounts.services import user_set_password
from opsdesk.core.views import style_form
from opsdesk.web.forms import LoginForm, PasswordChangeForm


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django refuses GET), so a link on another site cannot sign someone out."""


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None, user=request.user)
    style_form(form)
    if request.method == "POST" and form.is_valid():
        try:
            # The service validates the password, saves it and writes the security log entry.
            user_set_password(
                actor=request.user, user=request.user, password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            form.add_error("new_password1", exc.messages)
        else:
            # Keep this session signed in; every other session of the user ends.
            update_session_auth_hash(request, request.user)
            messages.success(request, "Your password has been changed.")
            return redirect("home")
    return render(request, "web/password_change.html", {"form": form}, status=400 if form.errors else 200)


def lockout_response(request, credentials, *args, **kwargs):
    """Shown by django-axes when an account is locked after repeated failed logins."""
    if request.path.startswith("/api/"):
        from opsdesk.core.api.errors import problem_json_response

        return problem_json_response(429, "locked_out", "Too many failed logins. Try again later.")
    minutes = round(float(settings.AXES_COOLOFF_TIME or 0) * 60)
    return render(request, "web/locked_out.html", {"cooloff_minutes": minutes}, status=429)
