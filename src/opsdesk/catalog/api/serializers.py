"""The request catalogue's API shapes: categories, items with their form, approval steps and task
plan, orders (requests), approvals, approval groups, delegations and fulfilment tasks. Writes go
through ``opsdesk.catalog.services``; these only check the shape of what is sent."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opsdesk.accounts.choices import Role
from opsdesk.accounts.models import Organization, Team, User
from opsdesk.catalog.choices import ApprovalState, ApproverKind, Decision, FieldType, RequestState, TaskState
from opsdesk.catalog.constants import MAX_APPROVAL_STEPS, MAX_TASKS
from opsdesk.catalog.models import (
    Approval,
    ApprovalDelegation,
    ApprovalGroup,
    CatalogCategory,
    CatalogItem,
    CatalogRequest,
    RequestTask,
)
from opsdesk.catalog.services import ordering
from opsdesk.core.api.serializers import StaffOnlyFieldsMixin, StrictModelSerializer, _type_error
from opsdesk.portfolio.models import Offering
from opsdesk.tickets.models import Category

STAMPS = ("version", "created_at", "updated_at")
MAX_TEXT = 10_000
SMALL_INT = 32_767
DB_INT = 2_147_483_647
# Choice sets named apart from the desk's own "state" and "kind" enums (tickets, chat, SLA).
REQUEST_STATE_ENUM = "CatalogRequestStateEnum"
APPROVAL_STATE_ENUM = "CatalogApprovalStateEnum"
TASK_STATE_ENUM = "CatalogTaskStateEnum"
APPROVER_KIND_ENUM = "CatalogApproverKindEnum"
DECISION_ENUM = "CatalogDecisionEnum"
FIELD_TYPE_ENUM = "CatalogFieldTypeEnum"
ROLE_ENUM = "CatalogRoleEnum"


def _restrict(field: serializers.Field, model, request) -> None:
    """Only ids of rows the client may see are accepted."""
    relation = getattr(field, "child_relation", field)
    if request is not None and request.user.is_authenticated:
        relation.queryset = model.objects.restrict(request.user, "view")


def people_named_by(user) -> QuerySet[User]:
    """Whom ``user`` may name as the person an order is for or as a stand-in: the people they
    may see and, for requesters, the colleagues of their organisation (whom the directory may
    hide from them). Anyone else is "no such person", whether or not they exist."""
    visible = User.objects.restrict(user, "view")
    if user.organization_id and not user.is_agent:
        visible = User.objects.filter(
            Q(pk__in=visible.values("pk")) | Q(organization_id=user.organization_id)
        )
    return visible.filter(is_active=True)


# --- choice sets as named schema components ------------------------------------------------
class NamedChoiceField(serializers.ChoiceField):
    """A choice whose set is one named schema component, whatever the field is called."""

    def __init__(self, *, component: str, **kwargs):
        self.component = component
        super().__init__(**kwargs)


class ChoiceListField(serializers.ListField):
    """A JSON list of choice values (strings), as one named enum component."""

    def __init__(self, *, choices, component: str, **kwargs):
        self.choice_values = [value for value, _label in choices]
        self.component = component
        kwargs.setdefault("required", False)
        super().__init__(child=serializers.ChoiceField(choices=choices), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Send a list.")
        if any(not isinstance(item, str) or item not in self.choice_values for item in data):
            raise serializers.ValidationError("A list of: " + ", ".join(self.choice_values) + ".")
        return list(dict.fromkeys(data))


def _enum_component(auto_schema, name: str, values: list) -> dict:
    component = ResolvedComponent(
        name=name, type=ResolvedComponent.SCHEMA, object=name, schema={"type": "string", "enum": values}
    )
    auto_schema.registry.register_on_missing(component)
    return component.ref


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "opsdesk.catalog.api.serializers.NamedChoiceField"

    def map_serializer_field(self, auto_schema, direction):
        return _enum_component(auto_schema, self.target.component, list(self.target.choices))


class ChoiceListFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "opsdesk.catalog.api.serializers.ChoiceListField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        return {"type": "array", "items": _enum_component(auto_schema, field.component, field.choice_values)}


class FieldTypeEnumExtension(OpenApiSerializerFieldExtension):
    """The form definition's schema names the field types through the shared component."""

    target_class = "opsdesk.catalog.api.serializers.FormDefinitionField"

    def map_serializer_field(self, auto_schema, direction):
        field_type = _enum_component(auto_schema, FIELD_TYPE_ENUM, list(FieldType.values))
        return {
            "type": "array",
            "description": "The order form's fields, in order (see docs/catalog.md): key, label, type, "
            "required, help, placeholder; max_length (text); min, max, integer (number); choices "
            "(choice, multi_choice); show_if {field, in} to show a field only when an earlier "
            "answer is one of the values.",
            "items": {
                "type": "object",
                "required": ["key", "label", "type"],
                "properties": {
                    "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,49}$"},
                    "label": {"type": "string", "minLength": 1},
                    "type": field_type,
                    "required": {"type": "boolean"},
                    "show_if": {
                        "type": "object",
                        "required": ["field", "in"],
                        "additionalProperties": False,
                        "properties": {
                            "field": {"type": "string"},
                            "in": {"type": "array", "items": {}, "minItems": 1},
                        },
                    },
                },
            },
        }


class FormDefinitionField(serializers.JSONField):
    """An item's form: passed whole to the items service, which validates it
    (``formspec.form_validate``) and answers by field position and key."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Send a list of field definitions.")
        return data


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "Answers by field key: text, number, choice (string), multi_choice (list), "
        'date ("YYYY-MM-DD"), user and service (ids); attachments as {"attachment": id, "name": …}.',
    }
)
class AnswersField(serializers.JSONField):
    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Send an object of answers by field key.")
        return data


class StrictPayload(serializers.Serializer):
    """An action's JSON body: unknown fields and values of the wrong JSON type are refused."""

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


def _version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=DB_INT,
        required=False,
        help_text="The version you read; a stale one is refused with 409 (or send If-Match).",
    )


# --- categories -----------------------------------------------------------------------------
class CatalogCategorySerializer(StrictModelSerializer):
    """A shelf of the catalogue (Hardware, Access, Software…). Everyone reads; managers keep them."""

    class Meta:
        model = CatalogCategory
        fields = ("id", "name", "slug", "description", "position", *STAMPS)
        # Uniqueness is checked by the service, which names the clash.
        extra_kwargs = {
            "position": {"max_value": SMALL_INT},
            "name": {"validators": []},
            "slug": {"validators": [], "required": False, "allow_blank": True},
        }
        validators: list = []


# --- items and their definitions -------------------------------------------------------------
class ApprovalStepSerializer(StrictPayload):
    """One level of an item's approval, as the items service takes it (``group``/``person`` ids)."""

    position = serializers.IntegerField(min_value=1, max_value=SMALL_INT, required=False)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    kind = NamedChoiceField(choices=ApproverKind.choices, component=APPROVER_KIND_ENUM)
    group = serializers.IntegerField(
        min_value=1, max_value=DB_INT, required=False, allow_null=True, help_text="For kind group."
    )
    person = serializers.IntegerField(
        min_value=1, max_value=DB_INT, required=False, allow_null=True, help_text="For kind person."
    )
    required = serializers.IntegerField(
        min_value=1, max_value=SMALL_INT, required=False, help_text="Approvals needed (N of M)."
    )
    remind_after_hours = serializers.IntegerField(min_value=0, max_value=SMALL_INT, required=False)
    escalate_after_hours = serializers.IntegerField(
        min_value=0, max_value=SMALL_INT, required=False, help_text="0: never escalate."
    )

    def to_representation(self, instance):
        return {
            "position": instance.position,
            "name": instance.name,
            "kind": instance.kind,
            "group": instance.group_id,
            "person": instance.person_id,
            "required": instance.required,
            "remind_after_hours": instance.remind_after_hours,
            "escalate_after_hours": instance.escalate_after_hours,
        }


class TaskTemplateSerializer(StrictPayload):
    """A task of an item's fulfilment plan: stages run in order, a stage's tasks in parallel."""

    stage = serializers.IntegerField(min_value=1, max_value=SMALL_INT, required=False)
    name = serializers.CharField(max_length=150)
    instructions = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    team = serializers.IntegerField(min_value=1, max_value=DB_INT)
    target_minutes = serializers.IntegerField(
        min_value=1, max_value=DB_INT, required=False, help_text="Business minutes from the task's opening."
    )

    def to_representation(self, instance):
        return {
            "stage": instance.stage,
            "name": instance.name,
            "instructions": instance.instructions,
            "team": instance.team_id,
            "target_minutes": instance.target_minutes,
        }


class CatalogItemSerializer(StaffOnlyFieldsMixin, StrictModelSerializer):
    """Something people can order. Requesters see what they may order (without who may order it,
    the teams or the approval and fulfilment plans); managers keep the catalogue. ``approval_steps``
    and ``task_plan``, when sent, replace the whole list."""

    staff_only_fields = (
        "organizations",
        "roles",
        "ticket_category",
        "fulfilment_team",
        "is_active",
        "position",
        "approval_steps",
        "task_plan",
    )

    form = FormDefinitionField()
    roles = ChoiceListField(
        choices=Role.choices, component=ROLE_ENUM, help_text="Roles that may order it; empty = every role."
    )
    picture = serializers.ImageField(read_only=True, allow_null=True)
    expected_at = serializers.SerializerMethodField(
        help_text="If ordered now, when it is expected (once approved): on a single item, null in lists."
    )
    approval_steps = ApprovalStepSerializer(many=True, required=False, max_length=MAX_APPROVAL_STEPS)
    task_plan = TaskTemplateSerializer(
        many=True, required=False, source="task_templates", max_length=MAX_TASKS
    )

    class Meta:
        model = CatalogItem
        fields = (
            "id",
            "name",
            "slug",
            "category",
            "offering",
            "summary",
            "description",
            "picture",
            "price",
            "currency",
            "delivery_days",
            "expected_at",
            "form",
            "organizations",
            "roles",
            "allow_on_behalf",
            "ticket_category",
            "fulfilment_team",
            "is_active",
            "position",
            "approval_steps",
            "task_plan",
            *STAMPS,
        )
        extra_kwargs = {
            "price": {"coerce_to_string": False},
            "position": {"max_value": SMALL_INT},
            "organizations": {"required": False},
            "slug": {"validators": [], "required": False, "allow_blank": True},
        }
        validators: list = []

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_expected_at(self, item: CatalogItem) -> datetime | None:
        start = self.context.get("expected_from")
        return None if start is None else ordering.expected_delivery(item=item, start=start)

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for name, model in (
            ("category", CatalogCategory),
            ("offering", Offering),
            ("organizations", Organization),
            ("ticket_category", Category),
            ("fulfilment_team", Team),
        ):
            _restrict(fields[name], model, request)
        return fields


class ItemPictureSerializer(serializers.Serializer):
    picture = serializers.FileField(help_text="PNG, JPEG, WebP or GIF, at most 2 MB.")
    version = serializers.IntegerField(min_value=1, max_value=DB_INT, required=False)


# --- orders ---------------------------------------------------------------------------------
class CatalogRequestSerializer(serializers.ModelSerializer):
    """An order and where it stands; its ticket (type request) is at /api/v1/tickets/{ticket}/."""

    ticket = serializers.SlugRelatedField(slug_field="number", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    state = NamedChoiceField(choices=RequestState.choices, component=REQUEST_STATE_ENUM, read_only=True)
    answers = AnswersField(read_only=True)
    form = serializers.JSONField(read_only=True, help_text="The item's form as it was when ordered.")

    class Meta:
        model = CatalogRequest
        fields = (
            "id",
            "ticket",
            "item",
            "item_name",
            "ordered_by",
            "requested_for",
            "state",
            "form",
            "answers",
            "price",
            "currency",
            "expected_at",
            "approved_at",
            "fulfilled_at",
            "closed_reason",
            *STAMPS,
        )
        read_only_fields = fields
        extra_kwargs = {"price": {"coerce_to_string": False}}


class CatalogOrderSerializer(StrictPayload):
    """An order: the form's answers by field key, and optionally the person it is for."""

    answers = AnswersField(required=False, default=dict)
    requested_for = serializers.IntegerField(
        min_value=1,
        max_value=DB_INT,
        required=False,
        allow_null=True,
        help_text="Order on behalf of this person (a colleague of your organisation; agents: anyone).",
    )


class CatalogOrderMultipartSerializer(serializers.Serializer):
    """An order with files: ``answers`` as a JSON string, each attachment as a file part named
    ``answers.<key>``."""

    answers = serializers.CharField(required=False, help_text='A JSON object, e.g. {"model": "Standard"}.')
    requested_for = serializers.IntegerField(min_value=1, max_value=DB_INT, required=False)


class RequestCancelSerializer(StrictPayload):
    reason = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    version = _version_field()


# --- progress (what the requester's panel shows) ----------------------------------------------
class CatalogPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RequestProgressApprovalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    approver = CatalogPersonSerializer()
    delegated_from = CatalogPersonSerializer(allow_null=True, help_text="Whom the approver stands in for.")
    escalated = serializers.BooleanField(help_text="Asked because the first approver did not answer in time.")
    state = NamedChoiceField(choices=ApprovalState.choices, component=APPROVAL_STATE_ENUM)
    state_label = serializers.CharField()
    requested_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)


class RequestProgressStepSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    required = serializers.IntegerField(help_text="Approvals the step needs.")
    approved = serializers.IntegerField(help_text="Approvals given so far.")
    state = NamedChoiceField(choices=ApprovalState.choices, component=APPROVAL_STATE_ENUM)
    approvals = RequestProgressApprovalSerializer(many=True)


class RequestProgressTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField()
    team = serializers.CharField(help_text="The team's name.")
    assignee = CatalogPersonSerializer(allow_null=True)
    state = NamedChoiceField(choices=TaskState.choices, component=TASK_STATE_ENUM)
    state_label = serializers.CharField()
    opened_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()


class RequestProgressStageSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    state = NamedChoiceField(choices=TaskState.choices, component=TASK_STATE_ENUM)
    tasks = RequestProgressTaskSerializer(many=True)


class RequestProgressSerializer(serializers.Serializer):
    """Where a request stands: approval steps with each approver's decision, fulfilment stages
    with their tasks, and how far along it is."""

    state = NamedChoiceField(choices=RequestState.choices, component=REQUEST_STATE_ENUM)
    state_label = serializers.CharField()
    expected_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    fulfilled_at = serializers.DateTimeField(allow_null=True)
    closed_reason = serializers.CharField(allow_blank=True)
    steps = RequestProgressStepSerializer(many=True)
    stages = RequestProgressStageSerializer(many=True)
    tasks_done = serializers.IntegerField()
    tasks_total = serializers.IntegerField()
    percent = serializers.IntegerField(min_value=0, max_value=100)


# --- approvals ------------------------------------------------------------------------------
class ApprovalSerializer(serializers.ModelSerializer):
    """One approver's part in one step of one request."""

    ticket = serializers.CharField(source="request.ticket.number", read_only=True)
    item_name = serializers.CharField(source="request.item.name", read_only=True)
    requested_for = serializers.IntegerField(source="request.requested_for_id", read_only=True)
    state = NamedChoiceField(choices=ApprovalState.choices, component=APPROVAL_STATE_ENUM, read_only=True)

    class Meta:
        model = Approval
        fields = (
            "id",
            "request",
            "ticket",
            "item_name",
            "requested_for",
            "step",
            "step_name",
            "required",
            "approver",
            "delegated_from",
            "escalated_from",
            "state",
            "requested_at",
            "escalated_at",
            "decided_at",
            "decided_by",
            "comment",
            *STAMPS,
        )
        read_only_fields = fields


class ApprovalDecisionSerializer(StrictPayload):
    decision = NamedChoiceField(choices=Decision.choices, component=DECISION_ENUM)
    comment = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    version = _version_field()


class ApprovalGroupSerializer(StrictModelSerializer):
    """A named set of people any N of whom may approve a step; ``members`` are user ids."""

    class Meta:
        model = ApprovalGroup
        fields = ("id", "name", "description", "members", *STAMPS)
        extra_kwargs = {"members": {"required": False}, "name": {"validators": []}}
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        _restrict(fields["members"], User, self.context.get("request"))
        return fields


class ApprovalDelegationSerializer(StrictModelSerializer):
    """While ``approver`` is away (``starts_on``–``ends_on``), ``delegate`` decides in their place.
    ``approver`` defaults to you; managers arrange anyone's."""

    class Meta:
        model = ApprovalDelegation
        fields = ("id", "approver", "delegate", "starts_on", "ends_on", "reason", *STAMPS)
        extra_kwargs = {"approver": {"required": False}}
        validators: list = []

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["approver"].queryset = people_named_by(request.user)
            fields["delegate"].queryset = people_named_by(request.user)
        return fields


# --- fulfilment tasks -----------------------------------------------------------------------
class RequestTaskSerializer(StaffOnlyFieldsMixin, serializers.ModelSerializer):
    """A fulfilment task in a team's queue with its own target. Requesters see their requests'
    tasks (not the instructions or notes); staff work them through the actions."""

    staff_only_fields = ("instructions", "note")

    ticket = serializers.CharField(source="request.ticket.number", read_only=True)
    state = NamedChoiceField(choices=TaskState.choices, component=TASK_STATE_ENUM, read_only=True)

    class Meta:
        model = RequestTask
        fields = (
            "id",
            "number",
            "request",
            "ticket",
            "stage",
            "name",
            "instructions",
            "team",
            "assignee",
            "state",
            "target_minutes",
            "opened_at",
            "due_at",
            "started_at",
            "done_at",
            "note",
            *STAMPS,
        )
        read_only_fields = fields


class RequestTaskAssignSerializer(StrictPayload):
    assignee = serializers.IntegerField(
        min_value=1,
        max_value=DB_INT,
        allow_null=True,
        help_text="A member of the task's team; null to unassign.",
    )
    version = _version_field()


class RequestTaskStartSerializer(StrictPayload):
    version = _version_field()


class RequestTaskCompleteSerializer(StrictPayload):
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    version = _version_field()


class RequestTaskCancelSerializer(StrictPayload):
    reason = serializers.CharField(max_length=MAX_TEXT)
    version = _version_field()
