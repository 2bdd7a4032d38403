"""One FilterSet per model, shared by the web lists and the API."""

from __future__ import annotations

import django_filters

from opsdesk.portfolio import models as m


class ServiceFilterSet(django_filters.FilterSet):
    depends_on = django_filters.NumberFilter(field_name="dependency_links__depends_on", distinct=True)
    location = django_filters.NumberFilter(field_name="delivery_locations__location", distinct=True)
    team = django_filters.NumberFilter(field_name="support_tiers__team", distinct=True)

    class Meta:
        model = m.Service
        fields = {
            "stage": ["exact"],
            "type": ["exact"],
            "owner": ["exact"],
            "criticality": ["exact", "lte"],
            "delivery_type": ["exact"],
        }


class OfferingFilterSet(django_filters.FilterSet):
    location = django_filters.NumberFilter(field_name="locations", distinct=True)

    class Meta:
        model = m.Offering
        fields = {"service": ["exact"], "period": ["exact"], "currency": ["exact"]}


class ProviderFilterSet(django_filters.FilterSet):
    service = django_filters.NumberFilter(field_name="services", distinct=True)

    class Meta:
        model = m.Provider
        fields = {"kind": ["exact"]}


class ContractFilterSet(django_filters.FilterSet):
    service = django_filters.NumberFilter(field_name="services", distinct=True)

    class Meta:
        model = m.Contract
        fields = {
            "provider": ["exact"],
            "owner": ["exact"],
            "end_date": ["gte", "lte"],
            "auto_renew": ["exact"],
        }
