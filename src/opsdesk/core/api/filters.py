"""Filter backends for the API: the app's FilterSet, with values made safe for every database:
numbers bounded to what a column holds (a 40-digit id is a 400, not an overflow deep inside the
driver) and times converted to UTC (PostgreSQL refuses offsets beyond ±15:59, Python allows ±24h)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions

BIGINT = 2**63


class BoundedFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            return super().filter_queryset(request, queryset, view)
        out_of_range = sorted(
            name
            for name, value in filterset.form.cleaned_data.items()
            if isinstance(value, int | Decimal)
            and not isinstance(value, bool)
            and not -BIGINT < value < BIGINT
        )
        if out_of_range:
            raise exceptions.ValidationError({name: ["Out of range."] for name in out_of_range})
        cleaned = filterset.form.cleaned_data
        for name, value in cleaned.items():
            if isinstance(value, datetime) and value.tzinfo is not None:
                cleaned[name] = value.astimezone(UTC)
        return filterset.qs
