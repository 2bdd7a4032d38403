"""Mailbox screens: list (last poll, last week's counts), detail, add, edit, delete and the
"Test connection" button. Passwords and tokens are write-only: never shown, blank keeps them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from opsdesk.core.exceptions import NotAllowed
from opsdesk.core.querysets import user_can
from opsdesk.core.views import ObjectDeleteView, ObjectDetailView, ObjectEditView, RestrictedObjectMixin, may
from opsdesk.mail import services
from opsdesk.mail.choices import InboundStatus, MailboxKind
from opsdesk.mail.forms import SECRET_FIELDS, MailboxForm
from opsdesk.mail.models import InboundMessage, Mailbox

RECENT_MESSAGES = 10
WEEK = timedelta(days=7)


def with_week_counts(queryset):
    """Mailboxes with how many of their messages of the last 7 days were processed or are
    quarantined now."""
    since = timezone.now() - WEEK
    recent = Q(messages__received_at__gte=since)
    return queryset.annotate(
        processed_week=Count("messages", filter=recent & Q(messages__status=InboundStatus.PROCESSED)),
        quarantined_week=Count("messages", filter=recent & Q(messages__status=InboundStatus.QUARANTINED)),
    )


class MailboxListView(RestrictedObjectMixin, View):
    model = Mailbox
    list_url_name = "mail:mailbox_list"

    def get(self, request, *args, **kwargs):
        self.require("view")
        mailboxes = with_week_counts(
            self.restricted_queryset("view").select_related("team", "service")
        ).order_by("name", "pk")
        context = {
            **self.base_context(),
            "mailboxes": mailboxes,
            "can_add": user_can(request.user, "add", Mailbox),
            "add_url": reverse("mail:mailbox_create"),
            "smtp_listen": settings.SMTP_LISTEN,
            "week_ago": (timezone.localdate() - WEEK).isoformat(),
        }
        return render(request, "mail/mailbox_list.html", context)


class MailboxDetailView(ObjectDetailView):
    model = Mailbox
    template_name = "mail/mailbox_detail.html"
    select_related = ("team", "service")
    list_url_name = "mail:mailbox_list"

    def extra_context(self, instance: Mailbox) -> dict[str, Any]:
        user = self.request.user
        since = timezone.now() - WEEK
        messages_seen = InboundMessage.objects.restrict(user, "view").filter(mailbox=instance)
        week = dict(
            messages_seen.filter(received_at__gte=since)
            .order_by()
            .values_list("status")
            .annotate(count=Count("pk"))
            .values_list("status", "count")
        )
        has_messages = messages_seen.exists()
        return {
            "recent": messages_seen.select_related("ticket")[:RECENT_MESSAGES],
            "week": [
                {"status": value, "label": label, "count": week.get(value, 0)}
                for value, label in InboundStatus.choices
            ],
            "week_ago": (timezone.localdate() - WEEK).isoformat(),
            "has_messages": has_messages,
            "has_password": bool(instance.password),
            "has_oauth2_token": bool(instance.oauth2_token),
            "is_imap": instance.kind == MailboxKind.IMAP,
            "smtp_listen": settings.SMTP_LISTEN,
            "can_test": may(user, "change", instance),
            "edit_url": reverse("mail:mailbox_edit", args=[instance.pk]),
            # A mailbox that received mail keeps it on record: it is deactivated, not deleted.
            "delete_url": None if has_messages else reverse("mail:mailbox_delete", args=[instance.pk]),
            "test_url": reverse("mail:mailbox_test", args=[instance.pk]),
        }


class MailboxEditView(ObjectEditView):
    model = Mailbox
    form_class = MailboxForm
    template_name = "mail/mailbox_form.html"
    select_related = ("team", "service")
    list_url_name = "mail:mailbox_list"

    def perform_create(self, form):
        return services.mailbox_save(actor=self.request.user, data=dict(form.cleaned_data))

    def perform_update(self, form, version):
        return services.mailbox_save(
            actor=self.request.user,
            data=dict(form.cleaned_data),
            mailbox=self.object,
            expected_version=version,
        )

    def render_conflict(self, form, exc):
        # Secrets are never compared, shown or sent back, not even on a conflict.
        for name in SECRET_FIELDS:
            form.cleaned_data.pop(name, None)
        return super().render_conflict(form, exc)


class MailboxDeleteView(ObjectDeleteView):
    model = Mailbox
    template_name = "generic/object_delete.html"
    list_url_name = "mail:mailbox_list"

    def perform_delete(self, version):
        services.mailbox_delete(actor=self.request.user, mailbox=self.object, expected_version=version)


class MailboxTestView(RestrictedObjectMixin, View):
    """POST only: sign in (IMAP) or ask the receiver about the address, and say what happened."""

    model = Mailbox
    http_method_names = ["post"]

    def post(self, request, pk: int):
        mailbox = self.get_object()
        try:
            check = services.mailbox_test_connection(actor=request.user, mailbox=mailbox)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        if check.ok:
            messages.success(request, f"Connection test passed. {check.message}")
        else:
            messages.error(request, f"Connection test failed. {check.message}")
        return HttpResponseRedirect(mailbox.get_absolute_url())
