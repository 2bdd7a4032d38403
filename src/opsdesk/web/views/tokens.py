"""A person's own API tokens: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from opsdesk.accounts.models import ApiToken
from opsdesk.accounts.services import token_create, token_revoke
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.views import style_form
from opsdesk.web.forms import TokenCreateForm


def _own_tokens(user):
    return ApiToken.objects.restrict(user, "view").filter(user=user)


# never_cache: the page that shows a new secret must not sit in any cache.
@never_cache
@login_required
def token_list(request):
    form = TokenCreateForm(request.POST or None)
    style_form(form)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["lifetime"]
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        try:
            _token, new_secret = token_create(
                actor=request.user, user=request.user, name=form.cleaned_data["name"], expires_at=expires_at
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            form = TokenCreateForm()
            style_form(form)
    context = {
        "tokens": _own_tokens(request.user),
        "form": form,
        "new_secret": new_secret,
        "now": timezone.now(),
    }
    return render(request, "web/tokens.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def token_revoke_view(request, pk: int):
    token = get_object_or_404(ApiToken.objects.restrict(request.user, "delete").select_related("user"), pk=pk)
    if token.revoked_at is None:
        try:
            token_revoke(actor=request.user, token=token)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, f"Token “{token.name}” revoked. Anything using it can no longer sign in.")
    return redirect("tokens")
