"""The service desk over REST: tickets by number and their actions, problems, categories and the
priority matrix. Views validate and call ``opsdesk.tickets.services``; they never write models."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from opsdesk.core.api.pagination import IdCursorPagination
from opsdesk.core.api.permissions import RestrictedPermission
from opsdesk.core.api.views import (
    ANY_VERSION,
    IF_MATCH,
    ApiViewMixin,
    RestrictedModelViewSet,
    if_match_version,
)
from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.querysets import user_can
from opsdesk.core.services import check_version, record_create, record_update
from opsdesk.tickets import selectors, services
from opsdesk.tickets.api import serializers
from opsdesk.tickets.choices import DEFAULT_PRIORITY_MATRIX, Level
from opsdesk.tickets.filtersets import (
    AttachmentFilterSet,
    CategoryFilterSet,
    ProblemFilterSet,
    TicketFilterSet,
)
from opsdesk.tickets.models import Attachment, Category, PriorityRule, Problem, Survey, Ticket


class ReadOnlyRolesDoNotWrite(permissions.BasePermission):
    """Auditors read everything and change nothing, whatever the endpoint."""

    message = "Your role reads the service desk; it does not change it."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or not getattr(request.user, "is_read_only", False)


PERMISSIONS = [RestrictedPermission, ReadOnlyRolesDoNotWrite]


class OldestFirstPagination(IdCursorPagination):
    """A ticket's timeline and files read from the first entry on."""

    ordering = "id"


def _expected_version(request) -> int | None:
    """The version named by If-Match (None when absent or ``*``)."""
    version = if_match_version(request)
    return None if version == ANY_VERSION else version


def _etagged(response: Response) -> Response:
    version = response.data.get("version") if isinstance(response.data, dict) else None
    if version is not None:
        response["ETag"] = f'"{version}"'
    return response


TICKET_RESPONSE = serializers.TicketSerializer


@extend_schema_view(
    create=extend_schema(request=serializers.TicketCreateSerializer, responses={201: TICKET_RESPONSE}),
    update=extend_schema(request=serializers.TicketUpdateSerializer, responses=TICKET_RESPONSE),
    partial_update=extend_schema(request=serializers.TicketUpdateSerializer, responses=TICKET_RESPONSE),
)
class TicketViewSet(RestrictedModelViewSet):
    """Incidents (INC…) and service requests (REQ…), addressed by number. Agents work every
    ticket; requesters see their own, those they watch and, where their organisation allows
    it, their organisation's. Status, assignment and links change through the actions."""

    queryset = Ticket.objects.all()
    serializer_class = serializers.TicketSerializer
    permission_classes = PERMISSIONS
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9]+"
    filterset_class = TicketFilterSet
    search_fields = ("number", "title", "description")
    ordering_fields = ("id", "priority", "created_at", "updated_at")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return (
            selectors.ticket_list_for(user=self.request.user)
            .select_related("parent", "duplicate_of", "problem")
            .prefetch_related(
                "watchers",
                # Ordered by parent first, so SQLite keeps using the parent index even after
                # ANALYZE (its statistics lump every NULL parent together).
                Prefetch(
                    "children",
                    queryset=Ticket.objects.only("id", "number", "parent_id").order_by("parent_id", "id"),
                ),
                "relations_out__related",
                "relations_in__ticket",
            )
        )

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.TicketCreateSerializer
        if self.action in ("update", "partial_update"):
            return serializers.TicketUpdateSerializer
        return serializers.TicketSerializer

    def create(self, request, *args, **kwargs):
        # Checked before validation: naming anyone else is refused whether or not they exist.
        requester = request.data.get("requester") if isinstance(request.data, dict) else None
        if requester is not None and not request.user.is_agent and requester != request.user.pk:
            raise NotAllowed("You can only report problems for yourself.", field="requester")
        return super().create(request, *args, **kwargs)

    def create_record(self, data: dict[str, Any]) -> Ticket:
        return services.ticket_create(actor=self.request.user, **data)

    def update_record(self, instance: Ticket, data: dict[str, Any], version: int | None) -> Ticket:
        return services.ticket_update(
            actor=self.request.user, ticket=instance, data=data, expected_version=version
        )

    # --- helpers for the actions ---------------------------------------------------------
    def _payload(self, serializer_class) -> dict[str, Any]:
        payload = serializer_class(data=self.request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def _ticket_named(self, number: str, field: str) -> Ticket:
        try:
            return selectors.ticket_get_for(user=self.request.user, number=number)
        except Ticket.DoesNotExist:
            raise ServiceError(
                f"There is no ticket {number} that you can see.", code="not_found", field=field
            ) from None

    def _answer(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=ticket.pk)
        data = serializers.TicketSerializer(fresh, context=self.get_serializer_context()).data
        return _etagged(Response(data, status=code))

    def _listed(self, queryset, serializer_class) -> Response:
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    # --- actions ---------------------------------------------------------------------------
    @extend_schema(request=serializers.TransitionSerializer, responses=TICKET_RESPONSE, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def transition(self, request, number=None):
        """Move the ticket to another status. An illegal move is a 400 naming the allowed ones;
        resolving needs ``resolution_code``, pending needs ``pending_reason``."""
        ticket = self.get_object()
        data = self._payload(serializers.TransitionSerializer)
        services.ticket_transition(
            actor=request.user,
            ticket=ticket,
            to=data["status"],
            expected_version=_expected_version(request),
            resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"],
            pending_reason=data["pending_reason"],
            note=data["note"],
            resolve_children=data["resolve_children"],
        )
        return self._answer(ticket)

    @extend_schema(request=serializers.AssignSerializer, responses=TICKET_RESPONSE, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def assign(self, request, number=None):
        """Give the ticket to a team and, optionally, to one of its members."""
        ticket = self.get_object()
        if not request.user.is_agent:
            # Before validating: teams are not the requester's to see, so their ids would not resolve.
            raise NotAllowed("Only the service desk assigns tickets.")
        data = self._payload(serializers.AssignSerializer)
        services.ticket_assign(
            actor=request.user,
            ticket=ticket,
            team=data["team"],
            assignee=data.get("assignee"),
            expected_version=_expected_version(request),
        )
        return self._answer(ticket)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=serializers.TimelineEventSerializer(many=True),
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        request=serializers.ReplySerializer,
        responses={201: serializers.TimelineEventSerializer},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=OldestFirstPagination)
    def replies(self, request, number=None):
        """GET: the timeline as you may see it (requesters never see internal notes).
        POST: a public reply, or an internal note (``public: false``, service desk only)."""
        ticket = self.get_object()
        if request.method == "GET":
            return self._listed(
                selectors.timeline_for(user=request.user, ticket=ticket), serializers.TimelineEventSerializer
            )
        data = self._payload(serializers.ReplySerializer)
        with transaction.atomic():
            check_version(instance=ticket, expected_version=_expected_version(request))
            event = services.ticket_reply(
                actor=request.user, ticket=ticket, body=data["body"], public=data["public"]
            )
        return Response(serializers.TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.WorklogSerializer,
        responses={201: serializers.TimelineEventSerializer},
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def worklogs(self, request, number=None):
        """Record time spent on the ticket (service desk)."""
        ticket = self.get_object()
        data = self._payload(serializers.WorklogSerializer)
        with transaction.atomic():
            check_version(instance=ticket, expected_version=_expected_version(request))
            event = services.ticket_log_work(
                actor=request.user, ticket=ticket, minutes=data["minutes"], note=data["note"]
            )
        return Response(serializers.TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], request=None, responses=serializers.AttachmentSerializer(many=True), filters=False
    )
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": serializers.AttachmentUploadSerializer},
        responses={201: serializers.AttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser],
        filter_backends=[],
        pagination_class=OldestFirstPagination,
    )
    def attachments(self, request, number=None):
        """GET: the files you may see. POST: attach a file (checked by content and size);
        ``public: false`` keeps it from the requester (service desk only)."""
        ticket = self.get_object()
        if request.method == "GET":
            files = Attachment.objects.restrict(request.user, "view").filter(ticket=ticket)
            return self._listed(files.select_related("ticket"), serializers.AttachmentSerializer)
        payload = serializers.AttachmentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        attachment = services.ticket_attach(
            actor=request.user,
            ticket=ticket,
            upload=payload.validated_data["file"],
            public=payload.validated_data["public"],
        )
        return Response(serializers.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.MergeSerializer, responses=TICKET_RESPONSE, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def merge(self, request, number=None):
        """Merge this ticket, a duplicate, into ``into``: its conversation and files move over and
        it is resolved as a duplicate."""
        ticket = self.get_object()
        into = self._ticket_named(self._payload(serializers.MergeSerializer)["into"], "into")
        with transaction.atomic():
            check_version(instance=ticket, expected_version=_expected_version(request))
            services.ticket_merge(actor=request.user, duplicate=ticket, into=into)
        return self._answer(ticket)

    @extend_schema(request=serializers.ParentSerializer, responses=TICKET_RESPONSE, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def parent(self, request, number=None):
        """Make this ticket a child of ``parent`` (which becomes a major incident), or detach it with null."""
        ticket = self.get_object()
        number_of_parent = self._payload(serializers.ParentSerializer)["parent"]
        parent = self._ticket_named(number_of_parent, "parent") if number_of_parent else None
        with transaction.atomic():
            check_version(instance=ticket, expected_version=_expected_version(request))
            services.ticket_set_parent(actor=request.user, ticket=ticket, parent=parent)
        return self._answer(ticket)

    @extend_schema(request=serializers.RelateSerializer, responses=TICKET_RESPONSE, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def relate(self, request, number=None):
        """Record that this ticket and ``related`` are related (shown on both)."""
        ticket = self.get_object()
        related = self._ticket_named(self._payload(serializers.RelateSerializer)["related"], "related")
        with transaction.atomic():
            check_version(instance=ticket, expected_version=_expected_version(request))
            services.ticket_relate(actor=request.user, ticket=ticket, related=related)
        return self._answer(ticket)

    @extend_schema(
        request=serializers.SurveyAnswerSerializer,
        responses=serializers.SurveySerializer,
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def survey(self, request, number=None):
        """The requester rates the resolved ticket (1–5); a low rating with ``reopen`` reopens it."""
        ticket = self.get_object()
        data = self._payload(serializers.SurveyAnswerSerializer)
        try:
            survey = ticket.survey
        except Survey.DoesNotExist:
            if request.user.pk != ticket.requester_id:
                raise NotAllowed("Only the person who raised the ticket rates it.") from None
            raise ServiceError(
                "There is nothing to rate until the ticket is resolved.", code="not_resolved", field="rating"
            ) from None
        with transaction.atomic():
            check_version(instance=ticket, expected_version=_expected_version(request))
            services.survey_answer(
                survey=survey,
                actor=request.user,
                rating=data["rating"],
                comment=data["comment"],
                reopen=data["reopen"],
            )
        return Response(serializers.SurveySerializer(survey).data)


class TicketAttachmentViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Files on tickets: their details, and the file itself as a download. Requesters see the
    public files of the tickets they see."""

    queryset = Attachment.objects.all()
    serializer_class = serializers.AttachmentSerializer
    permission_classes = PERMISSIONS
    filterset_class = AttachmentFilterSet
    search_fields = ("original_name",)
    ordering_fields = ("id", "created_at", "size")

    def get_queryset(self):
        return Attachment.objects.restrict(self.request.user, "view").select_related("ticket")

    @extend_schema(responses={(200, "application/octet-stream"): bytes}, filters=False)
    @action(detail=True, methods=["get"], filter_backends=[])
    def download(self, request, pk=None):
        """The file, as an attachment under its original name."""
        attachment = self.get_object()
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ProblemViewSet(RestrictedModelViewSet):
    """Problems (PRB…), addressed by number: the causes behind incidents. Known errors carry a root
    cause and a workaround; search them with ``?known_error=true&search=words``. Service desk only."""

    queryset = Problem.objects.all()
    serializer_class = serializers.ProblemSerializer
    permission_classes = PERMISSIONS
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z0-9]+"
    filterset_class = ProblemFilterSet
    search_fields = ("number", "title", "description", "root_cause", "workaround")
    ordering_fields = ("id", "priority", "created_at", "updated_at")
    prefetch_related = (Prefetch("incidents", queryset=Ticket.objects.only("id", "number", "problem_id")),)

    def create_record(self, data: dict[str, Any]) -> Problem:
        return services.problem_create(actor=self.request.user, **data)

    def update_record(self, instance: Problem, data: dict[str, Any], version: int | None) -> Problem:
        return services.problem_update(
            actor=self.request.user, problem=instance, data=data, expected_version=version
        )

    @extend_schema(request=serializers.ProblemIncidentSerializer, responses=serializers.ProblemSerializer)
    @action(detail=True, methods=["post"])
    def incidents(self, request, number=None):
        """Record that this problem causes ``incident`` (a number)."""
        problem = self.get_object()
        payload = serializers.ProblemIncidentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident_number = payload.validated_data["incident"]
        try:
            incident = selectors.ticket_get_for(user=request.user, number=incident_number)
        except Ticket.DoesNotExist:
            raise ServiceError(
                f"There is no ticket {incident_number} that you can see.", code="not_found", field="incident"
            ) from None
        services.problem_link_incident(actor=request.user, problem=problem, incident=incident)
        fresh = self.get_queryset().get(pk=problem.pk)
        return _etagged(Response(self.get_serializer(fresh).data))


class CategoryViewSet(RestrictedModelViewSet):
    """The category tree (two levels). Everyone reads it; managers maintain it."""

    queryset = Category.objects.all()
    serializer_class = serializers.CategorySerializer
    permission_classes = PERMISSIONS
    filterset_class = CategoryFilterSet
    search_fields = ("name", "description")
    ordering_fields = ("id", "name")
    prefetch_related = ("children",)


CELL_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.INT, OpenApiParameter.PATH, enum=Level.values, description=text)
    for name, text in (("impact", "1 high, 2 medium, 3 low."), ("urgency", "1 high, 2 medium, 3 low."))
]


class PriorityMatrixView(ApiViewMixin, generics.GenericAPIView):
    """The priority matrix: impact × urgency → priority, all nine cells. The service desk reads it."""

    permission_classes = PERMISSIONS
    serializer_class = serializers.PriorityCellSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(responses=serializers.PriorityCellSerializer(many=True))
    def get(self, request):
        if not user_can(request.user, "view", PriorityRule):
            raise exceptions.PermissionDenied("The priority matrix is for the service desk.")
        edited = {
            (rule.impact, rule.urgency): rule.priority
            for rule in PriorityRule.objects.restrict(request.user, "view")
        }
        cells = [
            {"impact": impact, "urgency": urgency, "priority": edited.get((impact, urgency), priority)}
            for (impact, urgency), priority in sorted(DEFAULT_PRIORITY_MATRIX.items())
        ]
        return Response(serializers.PriorityCellSerializer(cells, many=True).data)


class PriorityCellView(ApiViewMixin, generics.GenericAPIView):
    """One cell of the priority matrix. Managers change it; new and re-rated tickets follow it."""

    permission_classes = PERMISSIONS
    serializer_class = serializers.PriorityCellSerializer
    filter_backends: list = []
    pagination_class = None

    def _cell(self, impact: int, urgency: int) -> tuple[int, int]:
        if impact not in Level.values or urgency not in Level.values:
            raise exceptions.NotFound("Impact and urgency are 1, 2 or 3.")
        if not user_can(self.request.user, "view", PriorityRule):
            raise exceptions.PermissionDenied("The priority matrix is for the service desk.")
        return impact, urgency

    @extend_schema(parameters=CELL_PARAMETERS, responses=serializers.PriorityCellSerializer)
    def get(self, request, impact: int, urgency: int):
        impact, urgency = self._cell(impact, urgency)
        priority = services.priority_for(impact=impact, urgency=urgency)
        return Response({"impact": impact, "urgency": urgency, "priority": priority})

    @extend_schema(
        parameters=CELL_PARAMETERS,
        request=serializers.PriorityCellUpdateSerializer,
        responses=serializers.PriorityCellSerializer,
    )
    def put(self, request, impact: int, urgency: int):
        impact, urgency = self._cell(impact, urgency)
        payload = serializers.PriorityCellUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        priority = payload.validated_data["priority"]
        with transaction.atomic():
            rule = PriorityRule.objects.select_for_update().filter(impact=impact, urgency=urgency).first()
            if rule is None:
                record_create(
                    model=PriorityRule,
                    actor=request.user,
                    data={"impact": impact, "urgency": urgency, "priority": priority},
                )
            else:
                record_update(instance=rule, actor=request.user, data={"priority": priority})
        return Response({"impact": impact, "urgency": urgency, "priority": priority})
