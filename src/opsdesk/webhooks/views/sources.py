"""The webhook source screens: list, detail, add, edit, delete and secret rotation.

Administrators keep sources; managers and auditors read them. A secret is shown once, on the
page that answers the creation or the rotation (never cached, never again afterwards).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import View

from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed
from opsdesk.core.querysets import user_can
from opsdesk.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    RestrictedObjectMixin,
    style_form,
)
from opsdesk.webhooks import services
from opsdesk.webhooks.constants import (
    DELIVERY_HEADER,
    MAX_BODY_BYTES,
    ROTATION_GRACE_HOURS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from opsdesk.webhooks.forms import RotateForm, SourceForm
from opsdesk.webhooks.models import WebhookSource
from opsdesk.webhooks.selectors import delivery_list_for, source_list_for

RECENT_DELIVERIES = 10


def endpoint_url(source: WebhookSource) -> str:
    return settings.SITE_URL.rstrip("/") + source.endpoint_path()


def secret_page(request, source: WebhookSource, secret: str, *, rotated: bool):
    context = {
        "object": source,
        "secret": secret,
        "rotated": rotated,
        "endpoint": endpoint_url(source),
        "signature_header": SIGNATURE_HEADER,
        "timestamp_header": TIMESTAMP_HEADER,
        "delivery_header": DELIVERY_HEADER,
        "grace_hours": ROTATION_GRACE_HOURS,
    }
    response = render(request, "webhooks/source_secret.html", context)
    add_never_cache_headers(response)
    return response


class SourceListView(RestrictedObjectMixin, View):
    model = WebhookSource

    def get(self, request, *args, **kwargs):
        self.require("view")
        sources = source_list_for(user=request.user).order_by("name")
        context = {
            **self.base_context(),
            "sources": sources,
            "can_add": user_can(request.user, "add", WebhookSource),
            "add_url": reverse("webhooks:source_create"),
        }
        return render(request, "webhooks/source_list.html", context)

    def list_url(self) -> str | None:
        return reverse("webhooks:source_list")


class SourceDetailView(ObjectDetailView):
    model = WebhookSource
    template_name = "webhooks/source_detail.html"
    select_related = ("account", "team", "service", "category")
    list_url_name = "webhooks:source_list"

    def extra_context(self, instance: WebhookSource) -> dict[str, Any]:
        user = self.request.user
        return {
            "endpoint": endpoint_url(instance),
            "recent": delivery_list_for(user=user).filter(source=instance)[:RECENT_DELIVERIES],
            "edit_url": reverse("webhooks:source_edit", args=[instance.pk]),
            "delete_url": reverse("webhooks:source_delete", args=[instance.pk]),
            "rotate_url": reverse("webhooks:source_rotate", args=[instance.pk]),
            "max_body_bytes": MAX_BODY_BYTES,
        }


class SourceEditView(ObjectEditView):
    model = WebhookSource
    form_class = SourceForm
    template_name = "generic/object_edit.html"
    select_related = ("account", "team", "service", "category")
    list_url_name = "webhooks:source_list"
    new_secret: str | None = None
    new_source: WebhookSource | None = None

    def perform_create(self, form):
        self.new_source, self.new_secret = services.source_create(
            actor=self.request.user, data=dict(form.cleaned_data)
        )
        return self.new_source

    def perform_update(self, form, version):
        return services.source_update(
            actor=self.request.user,
            source=self.object,
            data=dict(form.cleaned_data),
            expected_version=version,
        )

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if self.new_source is not None and self.new_secret is not None:
            return secret_page(request, self.new_source, self.new_secret, rotated=False)
        return response


class SourceRotateView(RestrictedObjectMixin, View):
    """Confirm, then give the source a new secret and show it once."""

    model = WebhookSource
    list_url_name = "webhooks:source_list"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object()
        self.require("change", self.object)
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, form, *, error: str = "", status: int = 200):
        context = {
            **self.base_context(),
            "object": self.object,
            "form": form,
            "error": error,
            "grace_hours": ROTATION_GRACE_HOURS,
        }
        return render(self.request, "webhooks/source_rotate.html", context, status=status)

    def get(self, request, *args, **kwargs):
        form = RotateForm()
        style_form(form)
        return self.render_page(form)

    def post(self, request, *args, **kwargs):
        form = RotateForm(request.POST)
        style_form(form)
        raw_version = request.POST.get("version", "")
        version = int(raw_version) if raw_version.isdigit() else None
        if not form.is_valid() or version is None:
            return self.render_page(form, error="Reload the page and try again.", status=400)
        try:
            secret = services.source_rotate_secret(
                actor=request.user,
                source=self.object,
                keep_previous=form.cleaned_data["keep_previous"],
                expected_version=version,
            )
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ConcurrencyConflict as exc:
            self.object.refresh_from_db()
            return self.render_page(form, error=exc.message, status=409)
        messages.success(request, f"{self.object} has a new secret.")
        self.object.refresh_from_db()
        return secret_page(request, self.object, secret, rotated=True)


class SourceDeleteView(ObjectDeleteView):
    model = WebhookSource
    template_name = "generic/object_delete.html"
    list_url_name = "webhooks:source_list"

    def perform_delete(self, version):
        services.source_delete(actor=self.request.user, source=self.object, expected_version=version)
