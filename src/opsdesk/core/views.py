"""Generic web views every domain app reuses: list, detail, edit and delete of one model.

They hold no business logic. Reads always go through ``Model.objects.restrict(user, action)``,
so a record the user may not see answers 404 exactly like a missing one, and a record they
see but may not change answers 403. Writes go through services only (``record_create`` /
``record_update`` / ``record_delete`` by default; apps override ``perform_*`` to call their
own). Edits carry the record's ``version`` so a stale form is refused, never merged.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views import View

from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.core.models import AuditEntry
from opsdesk.core.querysets import user_can
from opsdesk.core.services import ensure_allowed, record_create, record_delete, record_update

PAGE_SIZE = 25
AUDIT_HISTORY_LIMIT = 25


def restrict_choice_fields(form: forms.BaseForm, user: Any) -> None:
    """Offer in every drop-down only the records the user may see.

    A filter or edit form built from a model lists *all* related rows by default; that would
    leak the names of other organisations' people to a requester.
    """
    for field in form.fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None and hasattr(queryset, "restrict"):
            field.queryset = queryset.restrict(user, "view")


def style_form(form: forms.BaseForm, *, small: bool = False) -> None:
    """Give each widget its Bootstrap class, so templates can render any form field by field."""
    size = " form-control-sm" if small else ""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select" + (" form-select-sm" if small else "")
        else:
            css = "form-control" + size
        existing = widget.attrs.get("class", "")
        widget.attrs["class"] = f"{existing} {css}".strip()


def offer_any_as_blank(form: forms.BaseForm) -> None:
    """In filter forms an empty choice means "any", so say so instead of "---------"."""
    for field in form.fields.values():
        if isinstance(field.widget, forms.NullBooleanSelect):
            field.widget.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]
        elif hasattr(field, "empty_label"):
            # Model choices and django-filter's choices add the blank entry themselves.
            field.empty_label = "Any"
            field.widget.choices = field.choices
        elif isinstance(field, forms.ChoiceField):
            field.choices = [("", "Any") if value == "" else (value, label) for value, label in field.choices]


def audit_history_for(*, user: Any, instance: models.Model) -> list[AuditEntry] | None:
    """The record's own audit trail, or None when the user may not read the audit log at all."""
    if not user_can(user, "view", AuditEntry):
        return None
    content_type = ContentType.objects.get_for_model(instance)
    return list(
        AuditEntry.objects.restrict(user, "view")
        .filter(content_type=content_type, object_id=str(instance.pk))
        .select_related("actor")[:AUDIT_HISTORY_LIMIT]
    )


def may(user: Any, action: str, instance: models.Model) -> bool:
    """Whether ``user`` may perform ``action`` on this very record (object-level)."""
    try:
        ensure_allowed(actor=user, action=action, instance=instance)
    except NotAllowed:
        return False
    return True


class RestrictedObjectMixin(LoginRequiredMixin):
    """Shared plumbing: which model, its restricted queryset, and fetching one record."""

    model: type[models.Model]
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    template_name: str | None = None
    list_url_name: str | None = None
    default_template: str = ""
    template_suffix: str = ""

    def restricted_queryset(self, action: str = "view") -> models.QuerySet:
        """Every read starts here; subclasses may narrow it further (a selector), never widen it."""
        queryset = self.model.objects.restrict(self.request.user, action)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def get_object(self) -> models.Model:
        try:
            return self.restricted_queryset("view").get(pk=self.kwargs["pk"])
        except (self.model.DoesNotExist, ValueError, ValidationError) as exc:
            raise Http404(f"No {self.model._meta.verbose_name} here.") from exc

    def require(self, action: str, instance: models.Model | None = None) -> None:
        """Refuse with 403 (the handler records it in the security log)."""
        if instance is None:
            allowed = user_can(self.request.user, action, self.model)
        else:
            allowed = may(self.request.user, action, instance)
        if not allowed:
            raise PermissionDenied(f"You may not {action} this {self.model._meta.verbose_name}.")

    def get_template_names(self) -> list[str]:
        if self.template_name:
            return [self.template_name]
        meta = self.model._meta
        return [f"{meta.app_label}/{meta.model_name}{self.template_suffix}.html", self.default_template]

    def base_context(self) -> dict[str, Any]:
        meta = self.model._meta
        return {
            "model_name": meta.verbose_name,
            "model_name_plural": meta.verbose_name_plural,
            "list_url": self.list_url(),
        }

    def list_url(self) -> str | None:
        meta = self.model._meta
        try:
            return reverse(self.list_url_name or f"{meta.app_label}:{meta.model_name}_list")
        except NoReverseMatch:
            # A model without a list page simply has no "back" link.
            return None


class ObjectListView(RestrictedObjectMixin, View):
    """A filtered, searchable, sortable, paginated list of the records the user may see.

    ``ordering_fields`` maps the public sort key (``?sort=name`` / ``?sort=-name``) to the
    ORM path, so nobody can sort by an arbitrary (possibly secret) field.
    """

    filterset_class: type | None = None
    search_fields: tuple[str, ...] = ()
    ordering_fields: dict[str, str] = {}
    default_ordering: str | None = None
    paginate_by = PAGE_SIZE
    default_template = "generic/object_list.html"
    template_suffix = "_list"

    def get(self, request, *args, **kwargs):
        # A list the user has no right to at all is refused outright; one they may read
        # in part (a requester's own organisation) is simply filtered.
        self.require("view")
        queryset = self.restricted_queryset("view")
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.GET or None, queryset=queryset, request=request)
            restrict_choice_fields(filterset.form, request.user)
            self.customize_filter_form(filterset.form)
            offer_any_as_blank(filterset.form)
            style_form(filterset.form, small=True)
            queryset = filterset.qs if filterset.is_bound else queryset
        query = request.GET.get("q", "").strip()
        if query and self.search_fields:
            queryset = queryset.filter(
                reduce(or_, (Q(**{f"{f}__icontains": query}) for f in self.search_fields))
            )
        sort = request.GET.get("sort", "")
        if sort.lstrip("-") in self.ordering_fields:
            path = self.ordering_fields[sort.lstrip("-")]
            queryset = queryset.order_by(f"-{path}" if sort.startswith("-") else path, "pk")
        elif self.default_ordering:
            queryset = queryset.order_by(self.default_ordering, "pk")
        elif not queryset.ordered:
            # Aggregating (member counts) drops Meta.ordering; pages must still be stable.
            queryset = queryset.order_by(*(self.model._meta.ordering or ()), "pk")
        page = Paginator(queryset, self.paginate_by).get_page(request.GET.get("page"))
        context = {
            **self.base_context(),
            "page_obj": page,
            "object_list": page.object_list,
            "filter": filterset,
            "filter_active": bool(filterset and any(request.GET.get(name) for name in filterset.form.fields)),
            "query": query,
            "sort": sort,
            "searchable": bool(self.search_fields),
            "can_add": user_can(request.user, "add", self.model),
            "add_url": self.add_url(),
            **self.extra_context(),
        }
        return render(request, self.get_template_names(), context)

    def customize_filter_form(self, form: forms.BaseForm) -> None:
        """Hook: swap a raw id filter for a friendly drop-down, and the like."""

    def extra_context(self) -> dict[str, Any]:
        return {}

    def add_url(self) -> str | None:
        meta = self.model._meta
        try:
            return reverse(f"{meta.app_label}:{meta.model_name}_add")
        except NoReverseMatch:
            # Not every model can be added from the UI.
            return None


class ObjectDetailView(RestrictedObjectMixin, View):
    """One record, with what the user may do to it and its own audit history."""

    default_template = "generic/object_detail.html"
    template_suffix = "_detail"

    def get(self, request, *args, **kwargs):
        instance = self.get_object()
        context = {
            **self.base_context(),
            "object": instance,
            "can_change": may(request.user, "change", instance),
            "can_delete": may(request.user, "delete", instance),
            "audit_entries": audit_history_for(user=request.user, instance=instance),
            **self.extra_context(instance),
        }
        return render(request, self.get_template_names(), context)

    def extra_context(self, instance: models.Model) -> dict[str, Any]:
        return {}


class ObjectEditView(RestrictedObjectMixin, View):
    """Create (no ``pk`` in the URL) or edit a record through a service.

    The page carries the version the editor loaded; if the record changed meanwhile the
    service raises ConcurrencyConflict and the form comes back with the user's input, a
    clear message and what is saved now. Saving again then is a deliberate choice.
    """

    form_class: type[forms.BaseForm]
    default_template = "generic/object_edit.html"
    template_suffix = "_form"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object() if "pk" in kwargs else None
        if self.object is None:
            self.require("add")
        else:
            self.require("change", self.object)
        return super().dispatch(request, *args, **kwargs)

    # --- hooks ---------------------------------------------------------------------------
    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"initial": self.get_initial()}
        if issubclass(self.form_class, forms.ModelForm) and self.object is not None:
            # The form gets its own copy: a ModelForm writes the submitted values into its
            # instance while validating, and services must judge the record as stored.
            kwargs["instance"] = self.get_object()
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        return {}

    def build_form(self, data=None) -> forms.BaseForm:
        form = self.form_class(data=data, **self.get_form_kwargs())
        restrict_choice_fields(form, self.request.user)
        style_form(form)
        return form

    def perform_create(self, form: forms.BaseForm) -> models.Model:
        data, m2m = _split_m2m(form)
        return record_create(model=self.model, actor=self.request.user, data=data, m2m=m2m)

    def perform_update(self, form: forms.BaseForm, version: int | None) -> models.Model:
        data, m2m = _split_m2m(form)
        return record_update(
            instance=self.object, actor=self.request.user, data=data, expected_version=version, m2m=m2m
        )

    def success_url(self, instance: models.Model) -> str:
        return instance.get_absolute_url()

    def cancel_url(self) -> str | None:
        if self.object is not None and hasattr(self.object, "get_absolute_url"):
            return self.object.get_absolute_url()
        return self.list_url()

    # --- HTTP ------------------------------------------------------------------------------
    def get(self, request, *args, **kwargs):
        version = self.object.version if self.object is not None else None
        return self.render_form(self.build_form(), version=version)

    def post(self, request, *args, **kwargs):
        form = self.build_form(data=request.POST)
        version = _posted_version(request.POST.get("version"))
        if self.object is not None and version is None:
            form.add_error(
                None, "This form is missing the version you edited. Reload the page and try again."
            )
            return self.render_form(form, version=None, status=400)
        if not form.is_valid():
            return self.render_form(form, version=version, status=400)
        try:
            if self.object is None:
                instance = self.perform_create(form)
            else:
                instance = self.perform_update(form, version)
        except ConcurrencyConflict as exc:
            return self.render_conflict(form, exc)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            add_service_error(form, exc)
            return self.render_form(form, version=version, status=400)
        except ValidationError as exc:
            _add_validation_error(form, exc)
            return self.render_form(form, version=version, status=400)
        verb = "created" if self.object is None else "saved"
        messages.success(request, f"{instance} {verb}.")
        return HttpResponseRedirect(self.success_url(instance))

    def render_conflict(self, form: forms.BaseForm, exc: ConcurrencyConflict):
        current = self.restricted_queryset("view").filter(pk=self.object.pk).first()
        if current is None:
            raise Http404("This record was deleted meanwhile.")
        # Only the fields whose saved value differs from what the user typed.
        differences = []
        for name, field in form.fields.items():
            if name not in form.cleaned_data or not hasattr(current, name):
                continue
            saved = getattr(current, name)
            if isinstance(saved, models.Manager):
                continue
            if saved != form.cleaned_data[name]:
                differences.append(
                    {"label": field.label or name, "saved": saved, "yours": form.cleaned_data[name]}
                )
        form.add_error(None, exc.message)
        return self.render_form(
            form,
            version=current.version,
            status=409,
            conflict={"message": exc.message, "differences": differences},
        )

    def render_form(self, form, *, version, status: int = 200, conflict: dict | None = None):
        context = {
            **self.base_context(),
            "form": form,
            "object": self.object,
            "version": version,
            "conflict": conflict,
            "cancel_url": self.cancel_url(),
            **self.extra_context(),
        }
        return render(self.request, self.get_template_names(), context, status=status)

    def extra_context(self) -> dict[str, Any]:
        return {}


class ObjectDeleteView(RestrictedObjectMixin, View):
    """Confirm, then delete through a service; the version guards against deleting a newer edit."""

    default_template = "generic/object_delete.html"
    template_suffix = "_confirm_delete"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object()
        self.require("delete", self.object)
        return super().dispatch(request, *args, **kwargs)

    def perform_delete(self, version: int | None) -> None:
        record_delete(instance=self.object, actor=self.request.user, expected_version=version)

    def success_url(self) -> str:
        return self.list_url() or reverse("home")

    def cancel_url(self) -> str | None:
        if hasattr(self.object, "get_absolute_url"):
            return self.object.get_absolute_url()
        return self.list_url()

    def get(self, request, *args, **kwargs):
        return self.render_page()

    def post(self, request, *args, **kwargs):
        try:
            self.perform_delete(_posted_version(request.POST.get("version")))
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            return self.render_page(error=exc.message, status=409 if exc.status == 409 else 400)
        messages.success(request, f"{self.object} deleted.")
        return HttpResponseRedirect(self.success_url())

    def render_page(self, *, error: str | None = None, status: int = 200):
        context = {
            **self.base_context(),
            "object": self.object,
            "error": error,
            "cancel_url": self.cancel_url(),
        }
        return render(self.request, self.get_template_names(), context, status=status)


def _posted_version(raw: str | None) -> int | None:
    try:
        value = int(raw) if raw else None
    except ValueError:
        return None
    return value if value is None or value > 0 else None


def _split_m2m(form: forms.BaseForm) -> tuple[dict[str, Any], dict[str, Any]]:
    model = getattr(getattr(form, "_meta", None), "model", None)
    m2m_names = {field.name for field in model._meta.many_to_many} if model else set()
    data = {name: value for name, value in form.cleaned_data.items() if name not in m2m_names}
    m2m = {name: value for name, value in form.cleaned_data.items() if name in m2m_names}
    return data, m2m


def _add_validation_error(form: forms.BaseForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def add_service_error(form: forms.BaseForm, exc: ServiceError) -> None:
    """Show a service's refusal on the form: by field where it names fields the form has."""
    if exc.errors:
        for field, messages_ in exc.errors.items():
            for message in messages_:
                form.add_error(field if field in form.fields else None, message)
        return
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
