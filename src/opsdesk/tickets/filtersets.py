"""One FilterSet per model, shared by the web lists and the API."""

from __future__ import annotations

import json

import django_filters
from django.db import connection

from opsdesk.accounts.models import Organization, Team
from opsdesk.portfolio.models import Service
from opsdesk.tickets.choices import Channel, Priority, ProblemStatus, Status, TicketType
from opsdesk.tickets.models import Attachment, Category, Problem, Ticket


def _visible(model):
    """The choices a filter offers: the rows the reader may see (none without a request)."""

    def queryset(request):
        user = getattr(request, "user", None)
        return model.objects.restrict(user, "view") if user is not None else model.objects.none()

    return queryset


class TicketFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=TicketType.choices)
    # distinct=False: these filter the ticket row itself, and DISTINCT made the database sort
    # every match before paginating (bench/tickets.py, finding 2 in docs/performance.md).
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    priority = django_filters.TypedMultipleChoiceFilter(choices=Priority.choices, coerce=int, distinct=False)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    assigned_team = django_filters.ModelChoiceFilter(queryset=_visible(Team))
    organization = django_filters.ModelChoiceFilter(queryset=_visible(Organization))
    service = django_filters.ModelChoiceFilter(queryset=_visible(Service))
    category = django_filters.ModelChoiceFilter(queryset=_visible(Category))
    # People are many: filter by id rather than offering every user as a choice.
    assignee = django_filters.NumberFilter(field_name="assignee")
    requester = django_filters.NumberFilter(field_name="requester")
    tag = django_filters.CharFilter(method="filter_tag", max_length=40, label="Tag")
    is_major = django_filters.BooleanFilter()
    created_at__gte = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_at__lte = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Assigned to me")
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label="Without an assignee"
    )

    class Meta:
        model = Ticket
        fields = ()

    def filter_tag(self, queryset, name, value):
        tag = value.strip().lower()
        if not tag:
            return queryset
        if connection.features.supports_json_field_contains:
            return queryset.filter(tags__contains=[tag])
        # Tags are stored as a JSON list of lower-case strings: match one whole, quoted element.
        return queryset.filter(tags__icontains=json.dumps(tag))

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return queryset.none() if value else queryset
        return queryset.filter(assignee=user) if value else queryset.exclude(assignee=user)


class ProblemFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ProblemStatus.choices)
    known_error = django_filters.BooleanFilter()
    priority = django_filters.TypedMultipleChoiceFilter(choices=Priority.choices, coerce=int)
    service = django_filters.ModelChoiceFilter(queryset=_visible(Service))
    category = django_filters.ModelChoiceFilter(queryset=_visible(Category))
    assigned_team = django_filters.ModelChoiceFilter(queryset=_visible(Team))
    assignee = django_filters.NumberFilter(field_name="assignee")

    class Meta:
        model = Problem
        fields = ()


class CategoryFilterSet(django_filters.FilterSet):
    parent = django_filters.NumberFilter(field_name="parent")
    top_level = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="Top-level categories only"
    )
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Category
        fields = ()


class AttachmentFilterSet(django_filters.FilterSet):
    ticket = django_filters.CharFilter(field_name="ticket__number", max_length=16, label="Ticket number")
    public = django_filters.BooleanFilter(field_name="is_public")

    class Meta:
        model = Attachment
        fields = ()
