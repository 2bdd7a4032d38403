"""Filters of the catalogue's API lists. Each runs on a queryset already restricted to what the
caller may see, so a filter only narrows it."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone

from opsdesk.catalog.choices import ApprovalState, RequestState, TaskState
from opsdesk.catalog.models import (
    Approval,
    ApprovalDelegation,
    ApprovalGroup,
    CatalogItem,
    CatalogRequest,
    RequestTask,
)

SCOPE_MINE, SCOPE_ALL = "mine", "all"


class CatalogItemFilterSet(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug", help_text="A category's slug.")

    class Meta:
        model = CatalogItem
        fields = {"offering": ["exact"], "is_active": ["exact"]}


class CatalogRequestFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=RequestState.choices)
    ticket = django_filters.CharFilter(field_name="ticket__number", help_text="The ticket's number.")

    class Meta:
        model = CatalogRequest
        fields = {"item": ["exact"], "requested_for": ["exact"], "ordered_by": ["exact"]}


class ApprovalFilterSet(django_filters.FilterSet):
    """``scope=mine`` (the default): approvals you decide, those decided in your place, and
    those of the people you currently stand in for; ``scope=all``: every approval you may see."""

    scope = django_filters.ChoiceFilter(
        choices=[(SCOPE_MINE, "Mine"), (SCOPE_ALL, "All I may see")],
        method="filter_scope",
        help_text="mine (default) or all.",
    )
    state = django_filters.ChoiceFilter(choices=ApprovalState.choices)
    ticket = django_filters.CharFilter(field_name="request__ticket__number", help_text="The ticket's number.")

    class Meta:
        model = Approval
        fields = {"request": ["exact"], "approver": ["exact"]}

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("scope"):
            data = data.copy()
            data["scope"] = SCOPE_MINE
        super().__init__(data, *args, **kwargs)

    def filter_scope(self, queryset, name, value):
        if value != SCOPE_MINE:
            return queryset
        user = self.request.user
        today = timezone.localdate()
        standing_in_for = ApprovalDelegation.objects.filter(
            delegate=user, starts_on__lte=today, ends_on__gte=today
        ).values("approver_id")
        return queryset.filter(Q(approver=user) | Q(delegated_from=user) | Q(approver__in=standing_in_for))


class ApprovalGroupFilterSet(django_filters.FilterSet):
    member = django_filters.NumberFilter(field_name="members", help_text="Groups this person is in.")

    class Meta:
        model = ApprovalGroup
        fields: list = []


class ApprovalDelegationFilterSet(django_filters.FilterSet):
    active_on = django_filters.DateFilter(method="filter_active_on", help_text="In force on this date.")

    class Meta:
        model = ApprovalDelegation
        fields = {"approver": ["exact"], "delegate": ["exact"]}

    def filter_active_on(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


class RequestTaskFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=TaskState.choices, help_text="Repeat for several.")
    ticket = django_filters.CharFilter(field_name="request__ticket__number", help_text="The ticket's number.")

    class Meta:
        model = RequestTask
        fields = {"team": ["exact"], "assignee": ["exact"], "request": ["exact"], "stage": ["exact"]}
