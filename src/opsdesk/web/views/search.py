"""The global search box: ranked full-text results over every registered kind of record, with
per-kind counts, highlighted snippets and filters, restricted to what the user may see."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from opsdesk.core.search import MAX_PAGE, MIN_QUERY_LENGTH, search_documents, targets
from opsdesk.portfolio.selectors import service_list_for

MAX_QUERY_LENGTH = 200
PAGE_SIZE = 20


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=1000, strip=True)
    type = forms.ChoiceField(required=False, label="Type")
    status = forms.CharField(required=False, max_length=40, label="Status")
    service = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Service")
    since = forms.DateField(
        required=False, label="Created from", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Created until", widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "Everything")] + [(t.kind, t.label) for t in targets()]
        self.fields["service"].choices = [("", "Any service")] + [
            (pk, name)
            for pk, name in service_list_for(user=user).select_related(None).values_list("pk", "name")
        ]
        for name in ("type", "service"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        for name in ("status", "since", "until"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end day comes before the start day.")
        return data


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


@login_required
def search_results(request):
    form = SearchForm(request.GET or None, user=request.user)
    form.is_valid()
    data = form.cleaned_data if form.is_bound else {}
    query = (data.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    kind = data.get("type") or ""
    results = None
    if query and not form.errors:
        results = search_documents(
            user=request.user,
            query=query,
            kinds=(kind,) if kind else (),
            statuses=(data["status"],) if data.get("status") else (),
            service_id=data.get("service"),
            since=_day_start(data["since"]) if data.get("since") else None,
            until=_day_start(data["until"] + timedelta(days=1)) if data.get("until") else None,
            page=data.get("page") or 1,
            page_size=PAGE_SIZE,
        )
    hits = results.hits if results else []
    groups: dict[str, list] = {}
    for hit in hits:
        groups.setdefault(hit.label, []).append(hit)
    context = {
        "form": form,
        "query": query,
        "kind": kind,
        "results": results,
        "hits": hits,
        "groups": list(groups.items()),
        "hit_count": results.total if results else 0,
        "all_total": f"{sum(c.count for c in results.counts):,}" if results else "0",
        "too_short": bool(query) and len(query) < MIN_QUERY_LENGTH,
        "min_length": MIN_QUERY_LENGTH,
        "filtered": any(data.get(name) for name in ("status", "service", "since", "until")),
    }
    return render(request, "web/search.html", context)
