"""The service-level screens for staff: policies (SLA, OLA, UC) and their targets.

Every staff member reads them; managers and admins keep them. Writes go through
``sla.services`` (``policy_save``, ``policy_delete``, ``target_save``, ``target_delete``), which
re-time or rebuild the open tickets' clocks after each change.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views import View

from opsdesk.core.querysets import user_can
from opsdesk.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    RestrictedObjectMixin,
    may,
)
from opsdesk.sla import services
from opsdesk.sla.choices import OPEN_TIMER_STATES, PolicyKind
from opsdesk.sla.forms import PolicyForm, TargetForm
from opsdesk.sla.models import SlaPolicy, SlaTarget
from opsdesk.tickets.choices import PendingReason, TicketType

KIND_HELP = {
    PolicyKind.SLA: "Promised to customers; timed from the ticket's creation.",
    PolicyKind.OLA: "Between internal teams; timed while one team has the ticket.",
    PolicyKind.UC: "With an external provider; timed while the ticket waits on the vendor.",
}
TICKET_TYPE_LABELS = dict(TicketType.choices)
PENDING_LABELS = dict(PendingReason.choices)


class SlaUrls:
    """The SLA screens use short names (``policy_list``, not ``slapolicy_list``)."""

    url_base = ""

    def list_url(self) -> str | None:
        return reverse("sla:policy_list")

    def base_context(self) -> dict[str, Any]:
        context = super().base_context()
        if self.model is SlaTarget:
            context.update(model_name="SLA target", model_name_plural="SLA targets")
        return context

    def add_url(self) -> str | None:
        try:
            return reverse(f"sla:{self.url_base}_create")
        except NoReverseMatch:
            return None


def criteria_summary(policy: SlaPolicy) -> list[str]:
    """What a policy covers, as short phrases (uses the prefetched criteria)."""
    parts = []
    if policy.ticket_types:
        parts.append(" or ".join(TICKET_TYPE_LABELS.get(item, item).lower() for item in policy.ticket_types))
    if policy.priorities:
        parts.append("priority " + ", ".join(f"P{item}" for item in policy.priorities))
    for label, items in (
        ("service", policy.services.all()),
        ("organisation", policy.organizations.all()),
        ("category", policy.categories.all()),
    ):
        names = [str(item) for item in items]
        if names:
            parts.append(f"{label}{'s' if len(names) > 1 else ''} {', '.join(names)}")
    if policy.kind == PolicyKind.OLA and policy.team_id:
        parts.append(f"while with {policy.team.name}")
    if policy.kind == PolicyKind.UC and policy.provider_id:
        parts.append(f"while waiting on {policy.provider.name}")
    return parts or ["every ticket"]


def target_summary(targets) -> list[str]:
    return [
        f"{target.get_metric_display()} {'P' + str(target.priority) if target.priority else 'any priority'}: "
        f"{minutes_text(target.minutes)}"
        for target in targets
    ]


def minutes_text(minutes: int) -> str:
    """240 → "4h", 90 → "1h 30m", 2880 → "2d" (days of 24 business hours are rare; keep hours)."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h {rest}m" if rest else f"{hours}h"


class PolicyListView(SlaUrls, RestrictedObjectMixin, View):
    """Every policy, grouped by kind (SLA, OLA, UC): a handful of rows, so no pages."""

    url_base = "policy"
    model = SlaPolicy
    select_related = ("calendar", "team", "provider")
    prefetch_related = ("targets", "services", "organizations", "categories")

    def get(self, request, *args, **kwargs):
        self.require("view")
        queryset = self.restricted_queryset("view")
        query = request.GET.get("q", "").strip()
        if query:
            queryset = queryset.filter(Q(name__icontains=query) | Q(description__icontains=query))
        context = {
            **self.base_context(),
            "groups": grouped(queryset.order_by("kind", "position", "name")),
            "query": query,
            "can_add": user_can(request.user, "add", SlaPolicy),
            "add_url": self.add_url(),
            "kind_help": [(kind.label, KIND_HELP[kind]) for kind in PolicyKind],
        }
        return render(request, "sla/policy_list.html", context)


def grouped(policies) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for policy in policies:
        kind = PolicyKind(policy.kind)
        group = groups.setdefault(kind, {"label": kind.label, "help": KIND_HELP[kind], "policies": []})
        group["policies"].append(
            {
                "policy": policy,
                "criteria": criteria_summary(policy),
                "targets": target_summary(policy.targets.all()),
            }
        )
    return [groups[kind] for kind in PolicyKind if kind in groups]


class PolicyDetailView(SlaUrls, ObjectDetailView):
    url_base = "policy"
    model = SlaPolicy
    template_name = "sla/policy_detail.html"
    select_related = ("calendar", "team", "provider")
    prefetch_related = ("services", "organizations", "categories")

    def extra_context(self, instance: SlaPolicy) -> dict[str, Any]:
        user = self.request.user
        targets = list(SlaTarget.objects.restrict(user, "view").filter(policy=instance))
        can_change = may(user, "change", instance)
        return {
            "kind_help": KIND_HELP[PolicyKind(instance.kind)],
            "criteria": criteria_summary(instance),
            "targets": [{"target": target, "duration": minutes_text(target.minutes)} for target in targets],
            "pause_labels": [PENDING_LABELS.get(item, item) for item in instance.pause_reasons],
            "open_timers": instance.timers.filter(state__in=OPEN_TIMER_STATES).count(),
            "can_edit_targets": can_change,
            "edit_url": reverse("sla:policy_edit", args=[instance.pk]),
            "delete_url": reverse("sla:policy_delete", args=[instance.pk]),
        }


class PolicyEditView(SlaUrls, ObjectEditView):
    url_base = "policy"
    model = SlaPolicy
    form_class = PolicyForm
    template_name = "generic/object_edit.html"

    def perform_create(self, form):
        return services.policy_save(actor=self.request.user, data=form.service_data())

    def perform_update(self, form, version):
        return services.policy_save(
            actor=self.request.user, data=form.service_data(), policy=self.object, expected_version=version
        )


class PolicyDeleteView(SlaUrls, ObjectDeleteView):
    url_base = "policy"
    model = SlaPolicy
    template_name = "generic/object_delete.html"

    def perform_delete(self, version):
        services.policy_delete(actor=self.request.user, policy=self.object, expected_version=version)


# --- targets: edited from their policy's page ---------------------------------------------------
class TargetEditView(SlaUrls, ObjectEditView):
    """Add a target (``targets/add/?policy=<pk>``) or change one."""

    url_base = "target"
    model = SlaTarget
    form_class = TargetForm
    template_name = "generic/object_edit.html"
    select_related = ("policy",)

    def dispatch(self, request, *args, **kwargs):
        self.policy = None
        if request.user.is_authenticated and "pk" not in kwargs:
            raw = request.GET.get("policy", "") or request.POST.get("policy", "")
            if raw.isdigit():
                self.policy = SlaPolicy.objects.restrict(request.user, "view").filter(pk=raw).first()
            if self.policy is None:
                raise Http404("Add a target from its policy's page.")
            if not may(request.user, "change", self.policy):
                raise PermissionDenied("You may not change this policy.")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"policy": self.policy.pk} if self.policy is not None else {}

    def perform_create(self, form):
        return services.target_save(actor=self.request.user, data=dict(form.cleaned_data))

    def perform_update(self, form, version):
        data = {name: value for name, value in form.cleaned_data.items() if name != "policy"}
        return services.target_save(
            actor=self.request.user, data=data, target=self.object, expected_version=version
        )

    def success_url(self, instance):
        return reverse("sla:policy_detail", args=[instance.policy_id]) + "#targets"

    def cancel_url(self):
        policy = self.object.policy if self.object is not None else self.policy
        return policy.get_absolute_url() if policy is not None else self.list_url()

    def extra_context(self):
        return {"policy": self.object.policy if self.object is not None else self.policy}


class TargetDeleteView(SlaUrls, ObjectDeleteView):
    url_base = "target"
    model = SlaTarget
    template_name = "generic/object_delete.html"
    select_related = ("policy",)

    def perform_delete(self, version):
        services.target_delete(actor=self.request.user, target=self.object, expected_version=version)

    def success_url(self):
        return reverse("sla:policy_detail", args=[self.object.policy_id]) + "#targets"

    def cancel_url(self):
        return self.success_url()
