"""The request catalogue over REST: the catalogue (categories, items with their form, approval
steps and task plan), ordering, requests and their progress, approvals and their decisions,
approval groups, delegations and fulfilment tasks. Views validate the shape of a request and call
``opsdesk.catalog.services``; they never write models."""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from opsdesk.accounts.models import User
from opsdesk.catalog import selectors
from opsdesk.catalog.api import filtersets, serializers
from opsdesk.catalog.models import (
    Approval,
    ApprovalDelegation,
    ApprovalGroup,
    CatalogCategory,
    CatalogItem,
    CatalogRequest,
    RequestTask,
)
from opsdesk.catalog.services import approvals, fulfilment, items, ordering
from opsdesk.core.api.parsers import BoundedJSONParser
from opsdesk.core.api.permissions import RestrictedPermission
from opsdesk.core.api.views import (
    ANY_VERSION,
    IF_MATCH,
    ApiViewMixin,
    RestrictedModelViewSet,
    if_match_version,
)
from opsdesk.core.exceptions import ServiceError
from opsdesk.core.services import ensure_allowed
from opsdesk.tickets.choices import Channel

ATTACHMENT_PREFIX = "answers."


class ReadOnlyRolesDoNotWrite(permissions.BasePermission):
    """Auditors read the catalogue and its requests; they neither order nor decide."""

    message = "Your role reads the catalogue; it does not change it."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or not getattr(request.user, "is_read_only", False)


PERMISSIONS = [RestrictedPermission, ReadOnlyRolesDoNotWrite]


def _version(request, body_version: int | None = None) -> int | None:
    """The version the client read: the body's ``version``, else If-Match (None when absent or ``*``)."""
    if body_version is not None:
        return body_version
    version = if_match_version(request)
    return None if version == ANY_VERSION else version


def _etagged(response: Response) -> Response:
    version = response.data.get("version") if isinstance(response.data, dict) else None
    if version is not None:
        response["ETag"] = f'"{version}"'
    return response


class RestrictedReadViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve through the object-level rules; writes are the actions, each calling a
    service. A record the caller may not see is a 404, like a missing one."""

    permission_classes = PERMISSIONS
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple = ()

    def get_queryset(self):
        queryset = self.queryset.model.objects.restrict(self.request.user, "view")
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def filter_queryset(self, queryset):
        # List filters (the approvals' default "mine") shape lists, never which record a URL names.
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    def retrieve(self, request, *args, **kwargs):
        return _etagged(super().retrieve(request, *args, **kwargs))

    def _payload(self, serializer_class) -> dict[str, Any]:
        payload = serializer_class(data=self.request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def _answer(self, instance, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        return _etagged(Response(self.get_serializer(fresh).data, status=code))


# --- the catalogue ----------------------------------------------------------------------------
class CatalogCategoryViewSet(RestrictedModelViewSet):
    """The catalogue's shelves. Everyone reads them; managers keep them."""

    queryset = CatalogCategory.objects.all()
    serializer_class = serializers.CatalogCategorySerializer
    permission_classes = PERMISSIONS
    search_fields = ("name", "description")
    ordering_fields = ("id", "position", "name")

    def create_record(self, data: dict[str, Any]) -> CatalogCategory:
        return items.category_save(actor=self.request.user, data=dict(data))

    def update_record(self, instance, data, version):
        return items.category_save(
            actor=self.request.user, category=instance, data=dict(data), expected_version=version
        )

    def delete_record(self, instance, version):
        items.category_delete(actor=self.request.user, category=instance, expected_version=version)


@extend_schema_view(
    create=extend_schema(responses={201: serializers.CatalogItemSerializer}),
)
class CatalogItemViewSet(RestrictedModelViewSet):
    """What people can order. Requesters list the items offered to them (``?category=<slug>``,
    ``?search=``) and order one with ``POST /{id}/order/``; managers keep the catalogue, each
    item with its form, ``approval_steps`` and ``task_plan`` (sent lists replace the old ones)."""

    queryset = CatalogItem.objects.all()
    serializer_class = serializers.CatalogItemSerializer
    permission_classes = PERMISSIONS
    filterset_class = filtersets.CatalogItemFilterSet
    search_fields = ("name", "summary", "description")
    ordering_fields = ("id", "name", "position", "price")
    select_related = ("category", "offering__service__service_hours")
    prefetch_related = ("organizations", "approval_steps", "task_templates")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.detail:
            # The expected date of one item (the service's calendar); lists leave it null.
            context["expected_from"] = timezone.now()
        return context

    def create_record(self, data: dict[str, Any]) -> CatalogItem:
        return self._save(item=None, data=data, version=None)

    def update_record(self, instance, data, version):
        return self._save(item=instance, data=data, version=version)

    def delete_record(self, instance, version):
        items.item_delete(actor=self.request.user, item=instance, expected_version=version)

    def _save(self, *, item: CatalogItem | None, data: dict[str, Any], version: int | None) -> CatalogItem:
        """The item, then its approval steps and task plan: one transaction (the caller's), so a
        refused step leaves the item as it was."""
        data = dict(data)
        steps = data.pop("approval_steps", None)
        tasks = data.pop("task_templates", None)
        if "organizations" in data:
            data["organizations"] = [organization.pk for organization in data["organizations"]]
        actor = self.request.user
        item = items.item_save(actor=actor, item=item, data=data, expected_version=version)
        if steps is not None:
            _renamed(
                items.approval_steps_save,
                "approval_steps",
                actor=actor,
                item=item,
                steps=[dict(s) for s in steps],
            )
        if tasks is not None:
            _renamed(
                items.task_plan_save, "task_plan", actor=actor, item=item, tasks=[dict(t) for t in tasks]
            )
        return item

    def perform_create(self, serializer):
        super().perform_create(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_update(self, serializer):
        # Re-read: the instance's prefetched steps and tasks predate the change.
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": serializers.ItemPictureSerializer},
        responses=serializers.CatalogItemSerializer,
        parameters=[IF_MATCH],
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={200: serializers.CatalogItemSerializer},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post", "delete"], parser_classes=[MultiPartParser])
    def picture(self, request, pk=None):
        """POST: set the item's picture (PNG, JPEG, WebP or GIF, checked by content and size).
        DELETE: remove it. Managers; the version read goes in If-Match or the form's ``version``."""
        item = self.get_object()
        if request.method == "DELETE":
            data, version = {"picture": False}, _version(request)
        else:
            payload = serializers.ItemPictureSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = {"picture": payload.validated_data["picture"]}
            version = _version(request, payload.validated_data.get("version"))
        items.item_save(actor=request.user, item=item, data=data, expected_version=version)
        return _etagged(Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data))

    @extend_schema(
        request={
            "application/json": serializers.CatalogOrderSerializer,
            "multipart/form-data": serializers.CatalogOrderMultipartSerializer,
        },
        responses={201: serializers.CatalogRequestSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser, MultiPartParser])
    def order(self, request, pk=None):
        """Order the item, for yourself or (``requested_for``) a colleague: the answers are checked
        against the item's form, and the order becomes a service request ticket awaiting its
        approvals (or in fulfilment when the item needs none). With attachments, send
        multipart/form-data: ``answers`` as a JSON string and each file as ``answers.<key>``."""
        item = self.get_object()
        answers, requested_for_id, files = _order_payload(request)
        requested_for = None
        if requested_for_id is not None:
            requested_for = serializers.people_named_by(request.user).filter(pk=requested_for_id).first()
            if requested_for is None:
                raise ServiceError(
                    "There is no such person that you can see.", code="not_found", field="requested_for"
                )
        catalog_request = ordering.request_order(
            actor=request.user,
            item=item,
            answers=answers,
            files=files or None,
            requested_for=requested_for,
            channel=Channel.API,
        )
        fresh = CatalogRequest.objects.select_related("ticket", "item").get(pk=catalog_request.pk)
        data = serializers.CatalogRequestSerializer(fresh, context=self.get_serializer_context()).data
        return _etagged(Response(data, status=status.HTTP_201_CREATED))


def _renamed(service, field: str, **kwargs):
    """Call ``service``; its errors about the list it was given are reported under ``field``,
    the name the API uses for that list."""
    try:
        return service(**kwargs)
    except ServiceError as exc:
        if exc.errors and field not in exc.errors:
            exc.errors = {
                (field if key in ("steps", "tasks") else key): value for key, value in exc.errors.items()
            }
        elif not exc.errors and exc.field in (None, "steps", "tasks"):
            exc.field = field
        raise


def _order_payload(request) -> tuple[dict, int | None, dict]:
    """(answers, requested_for id, files by field key) from a JSON or multipart body."""
    if request.content_type.startswith("multipart/form-data"):
        return _multipart_order(request)
    payload = serializers.CatalogOrderSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data["answers"], payload.validated_data.get("requested_for"), {}


def _multipart_order(request) -> tuple[dict, int | None, dict]:
    errors: dict[str, list[str]] = {}
    files = {}
    for name in request.FILES:
        uploads = request.FILES.getlist(name)
        if not name.startswith(ATTACHMENT_PREFIX) or name == ATTACHMENT_PREFIX:
            errors[name] = [f"Unknown field. Send each attachment as {ATTACHMENT_PREFIX}<field key>."]
        elif len(uploads) > 1:
            errors[name] = ["One file per field."]
        else:
            files[name.removeprefix(ATTACHMENT_PREFIX)] = uploads[0]
    fields = {name: request.data.getlist(name) for name in request.data if name not in request.FILES}
    for name, values in fields.items():
        if name not in ("answers", "requested_for"):
            errors[name] = ["Unknown field."]
        elif len(values) > 1:
            errors[name] = ["Send this field once."]
    answers: Any = {}
    if "answers" in fields and "answers" not in errors:
        try:
            answers = json.loads(fields["answers"][0] or "{}")
        except (ValueError, RecursionError):
            answers = None
        if not isinstance(answers, dict):
            errors["answers"] = ['Send the answers as a JSON object, e.g. {"model": "Standard"}.']
    requested_for = None
    if fields.get("requested_for") and "requested_for" not in errors:
        raw = fields["requested_for"][0].strip()
        if raw:
            if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= serializers.DB_INT:
                errors["requested_for"] = ["A person's id (a whole number)."]
            else:
                requested_for = int(raw)
    if errors:
        raise ValidationError(errors)
    return answers, requested_for, files


# --- requests -------------------------------------------------------------------------------
class CatalogRequestViewSet(RestrictedReadViewSet):
    """Orders: requesters see theirs (and those their organisation may see), approvers those they
    approve, the service desk every one. Each is a ticket of type request."""

    queryset = CatalogRequest.objects.all()
    serializer_class = serializers.CatalogRequestSerializer
    filterset_class = filtersets.CatalogRequestFilterSet
    search_fields = ("ticket__number", "item__name")
    ordering_fields = ("id", "created_at", "expected_at")
    select_related = ("ticket", "item")

    @extend_schema(responses=serializers.RequestProgressSerializer, filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def progress(self, request, pk=None):
        """Where the request stands: each approval step with its approvers' decisions, and each
        fulfilment stage with its tasks."""
        catalog_request = self.get_object()
        data = selectors.request_progress(request=catalog_request)
        return Response(serializers.RequestProgressSerializer(data).data)

    @extend_schema(
        request=serializers.RequestCancelSerializer, responses=serializers.CatalogRequestSerializer
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw an open request (its requester, who ordered it, or the service desk)."""
        catalog_request = self.get_object()
        data = self._payload(serializers.RequestCancelSerializer)
        ordering.request_cancel(
            actor=request.user,
            request=catalog_request,
            reason=data["reason"],
            expected_version=_version(request, data.get("version")),
        )
        return self._answer(catalog_request)


# --- approvals ------------------------------------------------------------------------------
class ApprovalViewSet(RestrictedReadViewSet):
    """Approvals. The list is yours by default (to decide, decided in your place, or of someone
    you stand in for; ``?scope=all`` for every one you may see, ``?state=pending`` for what waits).
    Requesters see their requests' approvals; only the approver or a delegate standing in decides."""

    queryset = Approval.objects.all()
    serializer_class = serializers.ApprovalSerializer
    filterset_class = filtersets.ApprovalFilterSet
    search_fields = ("request__ticket__number", "request__item__name", "step_name")
    ordering_fields = ("id", "requested_at", "decided_at")
    select_related = ("request__ticket", "request__item")

    @extend_schema(
        request=serializers.ApprovalDecisionSerializer,
        responses=serializers.ApprovalSerializer,
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve or reject, with a comment. A rejection closes the request with the comment as
        its reason; deciding twice is a 400 ``already_decided``; a stale ``version`` a 409."""
        approval = self.get_object()
        data = self._payload(serializers.ApprovalDecisionSerializer)
        approvals.approval_decide(
            actor=request.user,
            approval=approval,
            decision=data["decision"],
            comment=data["comment"],
            expected_version=_version(request, data.get("version")),
        )
        return self._answer(approval)


class ApprovalGroupViewSet(RestrictedModelViewSet):
    """Named sets of approvers (``members``: user ids). Staff read them; managers keep them. A group
    cannot shrink below what one of its steps requires."""

    queryset = ApprovalGroup.objects.all()
    serializer_class = serializers.ApprovalGroupSerializer
    permission_classes = PERMISSIONS
    filterset_class = filtersets.ApprovalGroupFilterSet
    search_fields = ("name", "description")
    ordering_fields = ("id", "name")
    prefetch_related = ("members",)

    def create_record(self, data: dict[str, Any]) -> ApprovalGroup:
        return _group_save(actor=self.request.user, group=None, data=data, version=None)

    def update_record(self, instance, data, version):
        return _group_save(actor=self.request.user, group=instance, data=data, version=version)

    def delete_record(self, instance, version):
        items.approval_group_delete(actor=self.request.user, group=instance, expected_version=version)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


def _group_save(*, actor, group, data: dict[str, Any], version: int | None) -> ApprovalGroup:
    data = dict(data)
    if "members" in data:
        data["members"] = [member.pk for member in data["members"]]
    return items.approval_group_save(actor=actor, group=group, data=data, expected_version=version)


class ApprovalDelegationViewSet(RestrictedModelViewSet):
    """Stand-ins while an approver is away. You arrange your own (``approver`` defaults to you);
    managers arrange anyone's. The delegate decides the approvals that arrive meanwhile."""

    queryset = ApprovalDelegation.objects.all()
    serializer_class = serializers.ApprovalDelegationSerializer
    permission_classes = PERMISSIONS
    filterset_class = filtersets.ApprovalDelegationFilterSet
    search_fields = ("reason",)
    ordering_fields = ("id", "starts_on", "ends_on")
    select_related = ("approver", "delegate")

    def create_record(self, data: dict[str, Any]) -> ApprovalDelegation:
        data = dict(data)
        data.setdefault("approver", self.request.user)
        return approvals.delegation_save(actor=self.request.user, data=data)

    def update_record(self, instance, data, version):
        return approvals.delegation_save(
            actor=self.request.user, delegation=instance, data=dict(data), expected_version=version
        )

    def delete_record(self, instance, version):
        approvals.delegation_delete(actor=self.request.user, delegation=instance, expected_version=version)


# --- fulfilment tasks -----------------------------------------------------------------------
class RequestTaskViewSet(RestrictedReadViewSet):
    """Fulfilment tasks: the service desk works them (``?team=&state=open&state=in_progress`` is a
    team's queue); requesters follow their requests' tasks. Actions take the ``version`` read."""

    queryset = RequestTask.objects.all()
    serializer_class = serializers.RequestTaskSerializer
    filterset_class = filtersets.RequestTaskFilterSet
    search_fields = ("number", "name", "request__ticket__number")
    ordering_fields = ("id", "due_at", "opened_at", "stage")
    select_related = ("request__ticket",)

    def _task(self) -> RequestTask:
        task = self.get_object()
        # Requesters follow tasks; before the payload, so they learn nothing about team members.
        ensure_allowed(actor=self.request.user, action="change", instance=task)
        return task

    @extend_schema(
        request=serializers.RequestTaskAssignSerializer, responses=serializers.RequestTaskSerializer
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the task to a member of its team (``null`` to unassign)."""
        task = self._task()
        data = self._payload(serializers.RequestTaskAssignSerializer)
        assignee = None
        if data["assignee"] is not None:
            assignee = User.objects.restrict(request.user, "view").filter(pk=data["assignee"]).first()
            if assignee is None:
                raise ServiceError(
                    "There is no such person that you can see.", code="not_found", field="assignee"
                )
        fulfilment.task_assign(
            actor=request.user,
            task=task,
            assignee=assignee,
            expected_version=_version(request, data.get("version")),
        )
        return self._answer(task)

    @extend_schema(
        request=serializers.RequestTaskStartSerializer, responses=serializers.RequestTaskSerializer
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start work on an open task."""
        task = self._task()
        data = self._payload(serializers.RequestTaskStartSerializer)
        fulfilment.task_start(
            actor=request.user, task=task, expected_version=_version(request, data.get("version"))
        )
        return self._answer(task)

    @extend_schema(
        request=serializers.RequestTaskCompleteSerializer, responses=serializers.RequestTaskSerializer
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Mark the task done, saying what was done. The last task of a stage opens the next; the
        last of all resolves the request."""
        task = self._task()
        data = self._payload(serializers.RequestTaskCompleteSerializer)
        fulfilment.task_complete(
            actor=request.user,
            task=task,
            note=data["note"],
            expected_version=_version(request, data.get("version")),
        )
        return self._answer(task)

    @extend_schema(
        request=serializers.RequestTaskCancelSerializer, responses=serializers.RequestTaskSerializer
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a task that is no longer needed, with the reason."""
        task = self._task()
        data = self._payload(serializers.RequestTaskCancelSerializer)
        fulfilment.task_cancel(
            actor=request.user,
            task=task,
            reason=data["reason"],
            expected_version=_version(request, data.get("version")),
        )
        return self._answer(task)
