"""The service desk's API shapes: tickets by human number, their actions, problems, categories
and the priority matrix. Writes go through ``opsdesk.tickets.services``; these only validate."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from opsdesk.accounts.models import Team, User
from opsdesk.core.api.serializers import StrictModelSerializer, _type_error
from opsdesk.portfolio.models import Service
from opsdesk.tickets.choices import (
    Channel,
    Level,
    PendingReason,
    Priority,
    ResolutionCode,
    Status,
)
from opsdesk.tickets.models import Attachment, Category, Problem, Survey, Ticket, TimelineEvent

MAX_TEXT = 20_000


class StrictPayload(serializers.Serializer):
    """An action's JSON body: unknown fields and values of the wrong JSON type are refused,
    as ``StrictModelSerializer`` refuses them for records."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]})
        errors = {}
        for name, value in data.items():
            if name not in self.fields or self.fields[name].read_only:
                errors[name] = ["Unknown field."]
            elif problem := _type_error(self.fields[name], value):
                errors[name] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def _restricted(field: serializers.Field, model, request) -> None:
    """Only ids of rows the client may see are accepted."""
    relation = getattr(field, "child_relation", field)
    if request is not None and request.user.is_authenticated:
        relation.queryset = model.objects.restrict(request.user, "view")


class TicketNumberField(serializers.SlugRelatedField):
    """Another ticket, named by its number."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="number", **kwargs)


# --- tickets --------------------------------------------------------------------------------
TICKET_FIELDS = (
    "number",
    "type",
    "title",
    "description",
    "description_html",
    "requester",
    "organization",
    "service",
    "category",
    "impact",
    "urgency",
    "priority",
    "status",
    "pending_reason",
    "assigned_team",
    "assignee",
    "tier",
    "channel",
    "tags",
    "watchers",
    "resolution_code",
    "resolution_notes",
    "is_major",
    "escalation_level",
    "escalated_at",
    "parent",
    "children",
    "duplicate_of",
    "related",
    "problem",
    "created_at",
    "updated_at",
    "first_response_at",
    "assigned_at",
    "resolved_at",
    "closed_at",
    "reopened_at",
    "reopen_count",
    "version",
)
# Changed only through the actions (transition, assign, merge, parent, relate) or by the desk itself.
ALWAYS_READ_ONLY = (
    "number",
    "description_html",
    "organization",
    "priority",
    "status",
    "pending_reason",
    "assigned_team",
    "assignee",
    "resolution_code",
    "resolution_notes",
    "created_at",
    "updated_at",
    "first_response_at",
    "assigned_at",
    "resolved_at",
    "closed_at",
    "reopened_at",
    "reopen_count",
    "escalation_level",
    "escalated_at",
)


class TicketSerializer(StrictModelSerializer):
    """An incident or service request. ``priority`` follows from ``impact`` × ``urgency``
    (the priority matrix); status and assignment change through their actions."""

    description = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, help_text="Markdown."
    )
    description_html = serializers.CharField(
        read_only=True, help_text="The description, rendered and sanitized."
    )
    impact = serializers.ChoiceField(
        choices=Level.choices, required=False, help_text="1 high, 2 medium, 3 low."
    )
    urgency = serializers.ChoiceField(
        choices=Level.choices, required=False, help_text="1 high, 2 medium, 3 low."
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices, read_only=True, help_text="From the priority matrix."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=20, required=False, help_text="Words."
    )
    watchers = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=User.objects.all(), help_text="Ids of people kept informed."
    )
    status = serializers.ChoiceField(choices=Status.choices, read_only=True, help_text="POST …/transition/.")
    pending_reason = serializers.ChoiceField(choices=PendingReason.choices, read_only=True, allow_blank=True)
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, read_only=True, allow_blank=True
    )
    parent = TicketNumberField(read_only=True, allow_null=True, help_text="Set with POST …/parent/.")
    children = TicketNumberField(many=True, read_only=True)
    duplicate_of = TicketNumberField(read_only=True, allow_null=True, help_text="Set with POST …/merge/.")
    related = serializers.SerializerMethodField(help_text="Numbers of related tickets (POST …/relate/).")
    problem = serializers.SlugRelatedField(
        slug_field="number",
        read_only=True,
        allow_null=True,
        help_text="Set with POST /problems/{number}/incidents/.",
    )

    # Fields that are read-only in this serializer on top of Meta.read_only_fields.
    also_read_only: tuple[str, ...] = ()

    class Meta:
        model = Ticket
        fields = TICKET_FIELDS
        read_only_fields = ALWAYS_READ_ONLY
        extra_kwargs = {
            "requester": {"required": False, "help_text": "The person it is for; you by default."}
        }

    def get_fields(self):
        fields = super().get_fields()
        for name in self.also_read_only:
            fields[name].read_only, fields[name].required = True, False
        request = self.context.get("request")
        for name, model in (
            ("requester", User),
            ("watchers", User),
            ("service", Service),
            ("category", Category),
        ):
            if not fields[name].read_only:
                _restricted(fields[name], model, request)
        return fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_related(self, ticket: Ticket) -> list[str]:
        # Stored once per pair; shown on both tickets.
        numbers = [relation.related.number for relation in ticket.relations_out.all()]
        numbers += [relation.ticket.number for relation in ticket.relations_in.all()]
        return sorted(numbers)


class TicketCreateSerializer(TicketSerializer):
    """What a new ticket says. Requesters raise tickets for themselves only (``requester``
    defaults to the caller)."""

    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.API)
    also_read_only = ("tier", "is_major")


class TicketUpdateSerializer(TicketSerializer):
    """What the service desk edits on a ticket; status, assignment and links have their actions."""

    also_read_only = ("requester", "channel", "watchers")


class TransitionSerializer(StrictPayload):
    status = serializers.ChoiceField(choices=Status.choices, help_text="The status to move to.")
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="Required to resolve.",
    )
    resolution_notes = serializers.CharField(
        max_length=MAX_TEXT, required=False, default="", allow_blank=True
    )
    pending_reason = serializers.ChoiceField(
        choices=PendingReason.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="Required to make it pending.",
    )
    note = serializers.CharField(max_length=MAX_TEXT, required=False, default="", allow_blank=True)
    resolve_children = serializers.BooleanField(
        required=False, default=False, help_text="Resolving a major incident resolves its open children."
    )


class AssignSerializer(StrictPayload):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, help_text="A member of the team."
    )

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        _restricted(fields["team"], Team, request)
        _restricted(fields["assignee"], User, request)
        return fields


class ReplySerializer(StrictPayload):
    body = serializers.CharField(max_length=MAX_TEXT, help_text="Markdown.")
    public = serializers.BooleanField(
        required=False, default=True, help_text="False for an internal note (service desk only)."
    )


class WorklogSerializer(StrictPayload):
    minutes = serializers.IntegerField(min_value=1, max_value=24 * 60)
    note = serializers.CharField(max_length=MAX_TEXT, required=False, default="", allow_blank=True)


class MergeSerializer(StrictPayload):
    into = serializers.CharField(max_length=16, help_text="The number of the ticket this one repeats.")


class ParentSerializer(StrictPayload):
    parent = serializers.CharField(
        max_length=16, allow_null=True, help_text="The parent's number, or null to detach."
    )


class RelateSerializer(StrictPayload):
    related = serializers.CharField(max_length=16, help_text="The number of the related ticket.")


class SurveyAnswerSerializer(StrictPayload):
    rating = serializers.IntegerField(min_value=1, max_value=5, help_text="1 very poor … 5 excellent.")
    comment = serializers.CharField(max_length=MAX_TEXT, required=False, default="", allow_blank=True)
    reopen = serializers.BooleanField(
        required=False, default=False, help_text="With a rating of 2 or less, reopen the ticket."
    )


class SurveySerializer(serializers.ModelSerializer):
    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = Survey
        fields = ("ticket", "rating", "comment", "answered_at", "needs_review")
        read_only_fields = fields


class TimelineEventSerializer(serializers.ModelSerializer):
    """One entry of a ticket's timeline."""

    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)
    data = serializers.DictField(read_only=True, help_text="What changed, for changes.")

    class Meta:
        model = TimelineEvent
        fields = ("id", "ticket", "kind", "author", "body", "body_html", "data", "minutes", "created_at")
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)
    public = serializers.BooleanField(source="is_public", read_only=True)

    class Meta:
        model = Attachment
        fields = (
            "id",
            "ticket",
            "original_name",
            "content_type",
            "size",
            "public",
            "uploaded_by",
            "created_at",
        )
        read_only_fields = fields


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, images, office files, text; checked by content.")
    public = serializers.BooleanField(
        required=False, default=True, help_text="False keeps the file from the requester (service desk only)."
    )


# --- problems, categories, the priority matrix -------------------------------------------
# The service desk's problem record, named apart from the RFC 9457 error shape ("ProblemDetails").
@extend_schema_serializer(component_name="ProblemRecord")
class ProblemSerializer(StrictModelSerializer):
    """A problem: the cause behind incidents; a known error once cause and workaround are written."""

    description = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    root_cause = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    workaround = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    incidents = TicketNumberField(many=True, read_only=True, help_text="Link more with POST …/incidents/.")

    class Meta:
        model = Problem
        fields = (
            "number",
            "title",
            "description",
            "status",
            "service",
            "category",
            "priority",
            "assigned_team",
            "assignee",
            "root_cause",
            "workaround",
            "known_error",
            "resolved_at",
            "incidents",
            "created_at",
            "updated_at",
            "version",
        )
        read_only_fields = ("number", "resolved_at", "created_at", "updated_at")

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for name, model in (
            ("service", Service),
            ("category", Category),
            ("assigned_team", Team),
            ("assignee", User),
        ):
            _restricted(fields[name], model, request)
        return fields


class ProblemIncidentSerializer(StrictPayload):
    incident = serializers.CharField(max_length=16, help_text="The incident's number.")


class CategorySerializer(StrictModelSerializer):
    """A category, or a subcategory when it has a parent (two levels)."""

    children = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Category
        fields = (
            "id",
            "name",
            "parent",
            "description",
            "is_active",
            "children",
            "version",
            "created_at",
            "updated_at",
        )


class PriorityCellSerializer(serializers.Serializer):
    impact = serializers.ChoiceField(choices=Level.choices, read_only=True)
    urgency = serializers.ChoiceField(choices=Level.choices, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)


class PriorityCellUpdateSerializer(StrictPayload):
    priority = serializers.ChoiceField(choices=Priority.choices)
