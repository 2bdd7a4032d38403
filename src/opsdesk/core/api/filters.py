"""Filter backends for the API: the app's FilterSet, with numbers bounded to what a database
column can hold (a 40-digit id is a 400, not an overflow deep inside the database driver)."""

from __future__ import annotations

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
        return filterset.qs
