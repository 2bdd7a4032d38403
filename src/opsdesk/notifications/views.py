"""Screens of notifications: everyone's "My notifications", and for administrators (managers
and auditors read them) the templates with a preview and the outbox with its failures."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from opsdesk.core.exceptions import ServiceError
from opsdesk.core.querysets import user_can
from opsdesk.core.richtext import sanitize_html
from opsdesk.core.views import ObjectListView, may, style_form
from opsdesk.notifications import selectors, services
from opsdesk.notifications.choices import MessageStatus, NotificationEvent
from opsdesk.notifications.constants import MAX_ATTEMPTS
from opsdesk.notifications.filtersets import OutboundMessageFilterSet
from opsdesk.notifications.forms import PreferencesForm, TemplateForm
from opsdesk.notifications.models import NotificationTemplate, OutboundMessage


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Which e-mails the signed-in person gets; each person sets only their own."""
    user = request.user
    form = PreferencesForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.preferences_save(actor=user, user=user, choices=dict(form.cleaned_data))
        messages.success(request, "Your notification choices are saved.")
        return HttpResponseRedirect(reverse("notifications:preferences"))
    style_form(form)
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "has_email": bool(user.email),
            "language": dict(selectors.template_languages()).get(user.language),
        },
    )


def _require_templates(user, action: str = "view") -> None:
    if not user_can(user, action, NotificationTemplate) or (action != "view" and user.is_read_only):
        raise PermissionDenied("Notification templates are for administrators.")


@login_required
def templates(request):
    _require_templates(request.user)
    return render(
        request,
        "notifications/templates.html",
        {
            "events": selectors.template_overview(),
            "can_change": user_can(request.user, "change", NotificationTemplate),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, event: str, language: str):
    """Edit one event's template in one language; "Preview" renders it with a sample ticket."""
    _require_templates(request.user)
    if event not in NotificationEvent.values or language not in dict(selectors.template_languages()):
        raise Http404("No such notification template.")
    saved = NotificationTemplate.objects.filter(event=event, language=language).first()
    current = selectors.template_for(event, language)
    form = TemplateForm(request.POST or None, initial=current)
    preview = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action != "preview":
            _require_templates(request.user, "change")
        if action == "reset":
            services.template_reset(actor=request.user, event=event, language=language)
            messages.success(request, "The shipped default applies again.")
            return HttpResponseRedirect(reverse("notifications:template_edit", args=[event, language]))
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "preview":
                    preview = services.template_preview(event=event, language=language, **data)
                else:
                    with transaction.atomic():
                        services.template_save(
                            actor=request.user,
                            event=event,
                            language=language,
                            expected_version=_version(request),
                            **data,
                        )
                    messages.success(request, "The template is saved; the next e-mails use it.")
                    return HttpResponseRedirect(reverse("notifications:templates"))
            except ServiceError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
    elif saved is None or request.GET.get("preview"):
        preview = services.template_preview(event=event, language=language, **current)
    style_form(form)
    return render(
        request,
        "notifications/template_form.html",
        {
            "form": form,
            "event": NotificationEvent(event),
            "language": language,
            "language_name": dict(selectors.template_languages())[language],
            "saved": saved,
            "preview": preview,
            # Shown inside our own page: sanitized, so a template cannot script an admin's browser.
            "preview_html": mark_safe(sanitize_html(preview.body_html)) if preview else "",  # noqa: S308
            "can_change": user_can(request.user, "change", NotificationTemplate)
            and not request.user.is_read_only,
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


def _version(request) -> int | None:
    try:
        value = int(request.POST.get("version", ""))
    except ValueError:
        return None
    return value if value > 0 else None


class OutboxView(ObjectListView):
    """Every e-mail the desk sent or tries to send; failures first when filtered."""

    model = OutboundMessage
    filterset_class = OutboundMessageFilterSet
    select_related = ("ticket",)
    search_fields = ("subject", "address")
    ordering_fields = {"id": "id", "status": "status", "attempts": "attempts", "next": "next_attempt_at"}
    template_name = "notifications/outbox.html"
    list_url_name = "notifications:outbox"

    def extra_context(self):
        failed = OutboundMessage.objects.restrict(self.request.user).filter(status=MessageStatus.FAILED)
        return {"failed_count": failed.count(), "max_attempts": MAX_ATTEMPTS}


outbox = OutboxView.as_view()


def _message_for(user, pk: int) -> OutboundMessage:
    found = (
        OutboundMessage.objects.restrict(user, "view")
        .select_related("ticket", "event", "recipient")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("No such message here.")
    return found


@login_required
def outbox_detail(request, pk: int):
    message = _message_for(request.user, pk)
    return render(
        request,
        "notifications/outbox_detail.html",
        {
            "message": message,
            "can_retry": message.status != MessageStatus.SENT and may(request.user, "change", message),
            "max_attempts": MAX_ATTEMPTS,
        },
    )


@login_required
@require_POST
def outbox_retry(request, pk: int):
    message = _message_for(request.user, pk)
    if not may(request.user, "change", message):
        raise PermissionDenied("Only administrators retry messages.")
    try:
        with transaction.atomic():
            services.message_retry(actor=request.user, message=message)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The message is queued; the worker sends it within a minute.")
    return HttpResponseRedirect(reverse("notifications:outbox_detail", args=[message.pk]))
