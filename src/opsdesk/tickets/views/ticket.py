"""One ticket: the agent's workspace or the requester's page, and every action taken from it.

Each action is a plain form POST to its own address that calls one service. On success the
browser goes back to the ticket; on a refusal the page comes back with the form as typed and
the reason; on a stale version (someone else changed the ticket) with 409 and a conflict note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from opsdesk.accounts.models import Team
from opsdesk.core.exceptions import ConcurrencyConflict, NotAllowed, ServiceError
from opsdesk.core.views import may
from opsdesk.tickets import selectors, services, workflows
from opsdesk.tickets.choices import OPEN_STATUSES, PendingReason, ResolutionCode, Status, TicketType
from opsdesk.tickets.forms import (
    AssignForm,
    AttachForm,
    EscalateForm,
    ProblemLinkForm,
    ReplyForm,
    SurveyForm,
    TicketFieldsForm,
    TicketNumberForm,
    TransitionForm,
    WorklogForm,
    agents_of,
)
from opsdesk.tickets.models import Attachment, CannedResponse, Problem, Survey, Ticket, TicketRelation
from opsdesk.tickets.views.common import PRIORITY_BADGE, require_agent, require_change, styled, ticket_or_404
from opsdesk.tickets.views.timeline import timeline_entries

KNOWN_ERROR_LIMIT = 8
KNOWN_ERROR_WORDS = 8
MIN_WORD = 3


def ticket_url(ticket: Ticket, anchor: str = "") -> str:
    return reverse("tickets:detail", args=[ticket.number]) + (f"#{anchor}" if anchor else "")


# The button for each move, in the words of who presses it.
AGENT_VERBS = {
    Status.ASSIGNED: "Mark as assigned",
    Status.IN_PROGRESS: "Start work",
    Status.PENDING: "Put on hold",
    Status.RESOLVED: "Resolve",
    Status.CLOSED: "Close",
    Status.CANCELLED: "Cancel the ticket",
}
REQUESTER_VERBS = {
    Status.IN_PROGRESS: "It is not solved: reopen it",
    Status.CLOSED: "All good: close it",
    Status.CANCELLED: "I don't need this any more",
}


def _moves(ticket: Ticket, user: Any) -> list[dict[str, Any]]:
    """The moves the state machine offers this user from where the ticket stands."""
    role = workflows.AGENT if user.is_agent else workflows.REQUESTER
    verbs = AGENT_VERBS if user.is_agent else REQUESTER_VERBS
    moves = []
    for to in workflows.allowed_moves(ticket_type=ticket.type, status=ticket.status, role=role):
        move = workflows.transition_for(ticket_type=ticket.type, status=ticket.status, to=to)
        verb = (
            "Reopen"
            if user.is_agent and ticket.status == Status.RESOLVED and to == Status.IN_PROGRESS
            else None
        )
        moves.append({"to": to, "verb": verb or verbs.get(to, Status(to).label), "requires": move.requires})
    return moves


def _related(user: Any, ticket: Ticket) -> dict[str, Any]:
    visible = selectors.ticket_list_for(user=user)
    relations = Q(pk__in=TicketRelation.objects.filter(ticket=ticket).values("related_id")) | Q(
        pk__in=TicketRelation.objects.filter(related=ticket).values("ticket_id")
    )
    linked = list(visible.filter(Q(parent=ticket) | Q(duplicate_of=ticket) | relations).order_by("id"))
    return {
        "children": [item for item in linked if item.parent_id == ticket.pk],
        "duplicates": [item for item in linked if item.duplicate_of_id == ticket.pk],
        "relations": [
            item for item in linked if item.parent_id != ticket.pk and item.duplicate_of_id != ticket.pk
        ],
    }


def _agent_context(request, ticket: Ticket, bound: dict[str, Any]) -> dict[str, Any]:
    user = request.user
    can_change = may(user, "change", ticket) and not user.is_read_only
    context: dict[str, Any] = {
        "can_change": can_change,
        "moves": _moves(ticket, user) if can_change else [],
        "parent": selectors.ticket_list_for(user=user).filter(pk=ticket.parent_id).first()
        if ticket.parent_id
        else None,
        "duplicate_of": selectors.ticket_list_for(user=user).filter(pk=ticket.duplicate_of_id).first()
        if ticket.duplicate_of_id
        else None,
        "problem": Problem.objects.restrict(user, "view").filter(pk=ticket.problem_id).first()
        if ticket.problem_id
        else None,
        "survey": Survey.objects.filter(ticket=ticket, answered_at__isnull=False).first(),
        "resolution_choices": ResolutionCode.choices,
        "pending_choices": PendingReason.choices,
        **_related(user, ticket),
    }
    if can_change:
        context.update(
            fields_form=bound.get("fields_form")
            or styled(
                TicketFieldsForm(
                    user=user,
                    initial={
                        "title": ticket.title,
                        "service": ticket.service_id,
                        "category": ticket.category_id,
                        "impact": ticket.impact,
                        "urgency": ticket.urgency,
                        "tags": ", ".join(ticket.tags),
                        "is_major": ticket.is_major,
                    },
                ),
                small=True,
            ),
            assign_form=bound.get("assign_form")
            or styled(
                AssignForm(
                    user=user,
                    team=ticket.assigned_team,
                    initial={"team": ticket.assigned_team_id, "assignee": ticket.assignee_id},
                ),
                small=True,
            ),
            transition_form=bound.get("transition_form"),
            worklog_form=bound.get("worklog_form") or styled(WorklogForm(), small=True),
            number_forms={
                name: bound.get(f"{name}_form") or styled(TicketNumberForm(prefix=name), small=True)
                for name in ("merge", "parent", "relate")
            },
            problem_form=bound.get("problem_form") or styled(ProblemLinkForm(), small=True),
            canned=list(CannedResponse.objects.restrict(user, "view").select_related("team")),
            escalate_form=bound.get("escalate_form") or styled(EscalateForm(user=user), small=True),
        )
    return context


def _requester_context(request, ticket: Ticket, bound: dict[str, Any]) -> dict[str, Any]:
    user = request.user
    can_change = may(user, "change", ticket)
    survey = None
    if ticket.status == Status.RESOLVED and ticket.requester_id == user.pk:
        survey = Survey.objects.filter(ticket=ticket, answered_at__isnull=True).first()
    return {
        "can_change": can_change,
        "moves": _moves(ticket, user) if can_change else [],
        "survey": survey,
        "survey_form": bound.get("survey_form") or styled(SurveyForm()),
        "reopen_days": settings.TICKET_REOPEN_DAYS,
    }


def render_ticket(request, ticket: Ticket, *, status: int = 200, conflict: dict | None = None, **bound: Any):
    """The ticket page for whoever asks; ``bound`` holds forms coming back with an error."""
    user = request.user
    is_open = ticket.status in OPEN_STATUSES
    context: dict[str, Any] = {
        "ticket": ticket,
        "timeline": timeline_entries(user=user, ticket=ticket),
        "attachments": list(
            Attachment.objects.restrict(user, "view").filter(ticket=ticket).select_related("uploaded_by")
        ),
        "is_open": is_open,
        "accepts_messages": ticket.status not in (Status.CLOSED, Status.CANCELLED),
        "reply_form": bound.get("reply_form") or styled(ReplyForm()),
        "attach_form": bound.get("attach_form") or styled(AttachForm(), small=True),
        "conflict": conflict,
        "error_form": next(iter(bound), None),
    }
    if user.is_agent:
        context.update(_agent_context(request, ticket, bound))
        template = "tickets/ticket_agent.html"
    else:
        context.update(_requester_context(request, ticket, bound))
        template = "tickets/ticket_requester.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
def detail(request, number: str):
    return render_ticket(request, ticket_or_404(request.user, number))


@login_required
@require_GET
def version(request, number: str):
    """The tiny endpoint the ticket page polls: a banner once someone else changed the ticket."""
    ticket = ticket_or_404(request.user, number)
    try:
        seen = int(request.GET.get("v", ""))
    except ValueError:
        seen = ticket.version
    changed_by = None
    if ticket.version != seen:
        latest = (
            selectors.timeline_for(user=request.user, ticket=ticket).order_by("-created_at", "-id").first()
        )
        changed_by = latest.author if latest and latest.author else None
    return render(
        request,
        "tickets/partials/live_banner.html",
        {"ticket": ticket, "seen": seen, "changed": ticket.version != seen, "changed_by": changed_by},
    )


def _posted_version(request) -> int | None:
    try:
        value = int(request.POST.get("version", ""))
    except ValueError:
        return None
    return value if value > 0 else None


def _act(
    request,
    number: str,
    *,
    form: Any,
    key: str,
    perform: Callable[[Ticket, dict[str, Any]], tuple[str, str]],
    agents_only: bool = False,
):
    """Validate ``form``, run ``perform`` (which calls one service and returns the message and
    where to go), and answer: redirect on success, the page with the form on a refusal."""
    user = request.user
    ticket = ticket_or_404(user, number)
    require_change(user, ticket)
    if agents_only:
        require_agent(user)
    if user.is_read_only:
        raise PermissionDenied("Read-only roles change nothing.")
    styled(form, small=key != "reply_form")
    if form.is_valid():
        try:
            message, target = perform(ticket, form.cleaned_data)
        except ConcurrencyConflict as exc:
            current = ticket_or_404(user, number)
            form.add_error(None, exc.message)
            if "version" in request.POST:
                # The form now carries the current version: saving again is a deliberate choice.
                form.data = form.data.copy()
                form.data["version"] = current.version
            conflict = {"message": exc.message, "differences": _differences(form, current)}
            return render_ticket(request, current, status=409, conflict=conflict, **{key: form})
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(request, message)
            return HttpResponseRedirect(target)
    ticket = ticket_or_404(user, number)
    return render_ticket(request, ticket, status=400, **{key: form})


@login_required
@require_POST
def reply(request, number: str):
    def perform(ticket, data):
        public = data["public"] or not request.user.is_agent
        services.ticket_reply(actor=request.user, ticket=ticket, body=data["body"], public=public)
        return ("Reply sent." if public else "Note added."), ticket_url(ticket, "timeline-end")

    # Requesters reply to their own tickets (the service checks); watchers may only read.
    return _act(request, number, form=ReplyForm(request.POST), key="reply_form", perform=perform)


@login_required
@require_POST
def transition(request, number: str):
    version = _posted_version(request)

    def perform(ticket, data):
        services.ticket_transition(
            actor=request.user,
            ticket=ticket,
            to=data["to"],
            expected_version=version,
            resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"],
            pending_reason=data["pending_reason"],
            note=data["note"],
            resolve_children=data["resolve_children"],
        )
        label = Status(data["to"]).label.lower()
        return f"{ticket.number} is now {label}.", ticket_url(ticket)

    return _act(request, number, form=TransitionForm(request.POST), key="transition_form", perform=perform)


@login_required
@require_POST
def assign(request, number: str):
    version = _posted_version(request)

    def perform(ticket, data):
        services.ticket_assign(
            actor=request.user,
            ticket=ticket,
            team=data["team"],
            assignee=data["assignee"],
            expected_version=version,
            reason=data["reason"],
        )
        who = data["assignee"] or data["team"].name
        return f"{ticket.number} assigned to {who}.", ticket_url(ticket)

    form = AssignForm(request.POST, user=request.user)
    return _act(request, number, form=form, key="assign_form", perform=perform, agents_only=True)


@login_required
@require_POST
def update(request, number: str):
    version = _posted_version(request)

    def perform(ticket, data):
        if version is None:
            raise ServiceError("This form is missing the version you edited. Reload the page and try again.")
        changes = {name: value for name, value in data.items() if value != _current(ticket, name)}
        services.ticket_update(actor=request.user, ticket=ticket, data=changes, expected_version=version)
        return f"{ticket.number} saved.", ticket_url(ticket)

    form = TicketFieldsForm(request.POST, user=request.user)
    return _act(request, number, form=form, key="fields_form", perform=perform, agents_only=True)


def _current(ticket: Ticket, name: str) -> Any:
    return getattr(ticket, name)


def _differences(form: Any, current: Ticket) -> list[dict[str, Any]]:
    """Where what the user typed differs from what is saved now."""
    rows = []
    for name, typed in getattr(form, "cleaned_data", {}).items():
        if name in form.fields and hasattr(current, name) and _current(current, name) != typed:
            rows.append({"label": form[name].label, "saved": _current(current, name), "yours": typed})
    return rows


@login_required
@require_POST
def worklog(request, number: str):
    def perform(ticket, data):
        services.ticket_log_work(
            actor=request.user, ticket=ticket, minutes=data["minutes"], note=data["note"]
        )
        return f"{data['minutes']} min logged.", ticket_url(ticket, "timeline-end")

    return _act(
        request, number, form=WorklogForm(request.POST), key="worklog_form", perform=perform, agents_only=True
    )


@login_required
@require_POST
def attach(request, number: str):
    def perform(ticket, data):
        public = data["public"] or not request.user.is_agent
        attachment = services.ticket_attach(
            actor=request.user, ticket=ticket, upload=data["file"], public=public
        )
        return f"{attachment.original_name} attached.", ticket_url(ticket, "files")

    form = AttachForm(request.POST, request.FILES)
    return _act(request, number, form=form, key="attach_form", perform=perform)


def _other_ticket(user: Any, number: str, field: str) -> Ticket:
    ticket = selectors.ticket_list_for(user=user).filter(number=number).first()
    if ticket is None:
        raise ServiceError(f"There is no ticket {number}.", field=field)
    return ticket


@login_required
@require_POST
def merge(request, number: str):
    def perform(ticket, data):
        into = _other_ticket(request.user, data["number"], "number")
        services.ticket_merge(actor=request.user, duplicate=ticket, into=into)
        return f"{ticket.number} merged into {into.number}.", ticket_url(into)

    form = TicketNumberForm(request.POST, prefix="merge")
    form.fields["number"].required = True
    return _act(request, number, form=form, key="merge_form", perform=perform, agents_only=True)


@login_required
@require_POST
def set_parent(request, number: str):
    def perform(ticket, data):
        parent = _other_ticket(request.user, data["number"], "number") if data["number"] else None
        services.ticket_set_parent(actor=request.user, ticket=ticket, parent=parent)
        text = (
            f"{ticket.number} is now a child of {parent.number}."
            if parent
            else f"{ticket.number} has no parent now."
        )
        return text, ticket_url(ticket, "related")

    form = TicketNumberForm(request.POST, prefix="parent")
    return _act(request, number, form=form, key="parent_form", perform=perform, agents_only=True)


@login_required
@require_POST
def relate(request, number: str):
    def perform(ticket, data):
        other = _other_ticket(request.user, data["number"], "number")
        services.ticket_relate(actor=request.user, ticket=ticket, related=other)
        return f"{ticket.number} and {other.number} are related.", ticket_url(ticket, "related")

    form = TicketNumberForm(request.POST, prefix="relate")
    form.fields["number"].required = True
    return _act(request, number, form=form, key="relate_form", perform=perform, agents_only=True)


@login_required
@require_POST
def link_problem(request, number: str):
    def perform(ticket, data):
        problem = Problem.objects.restrict(request.user, "view").filter(number=data["problem"]).first()
        if problem is None:
            raise ServiceError(f"There is no problem {data['problem']}.", field="problem")
        services.problem_link_incident(actor=request.user, problem=problem, incident=ticket)
        return f"{ticket.number} is linked to {problem.number}.", ticket_url(ticket, "related")

    return _act(
        request,
        number,
        form=ProblemLinkForm(request.POST),
        key="problem_form",
        perform=perform,
        agents_only=True,
    )


@login_required
@require_POST
def rate(request, number: str):
    """The requester rates their resolved ticket from its page."""

    def perform(ticket, data):
        survey = Survey.objects.filter(ticket=ticket).first()
        if survey is None:
            raise ServiceError("This ticket is not waiting for a rating.", field="rating")
        services.survey_answer(
            survey=survey,
            rating=data["rating"],
            comment=data["comment"],
            actor=request.user,
            reopen=data["reopen"],
        )
        text = "Thank you for your rating."
        if data["reopen"] and survey.needs_review:
            text += " We have reopened your ticket."
        return text, ticket_url(ticket)

    return _act(request, number, form=SurveyForm(request.POST), key="survey_form", perform=perform)


@login_required
@require_POST
def escalate(request, number: str):
    """Escalate by hand: functional (to a team) or hierarchical (the lead, then management)."""
    version = _posted_version(request)

    def perform(ticket, data):
        record = services.ticket_escalate(
            actor=request.user,
            ticket=ticket,
            reason=data["reason"],
            kind=data["kind"],
            team=data["team"],
            expected_version=version,
        )
        where = f" to {record.to_team.name}" if record.to_team and data["kind"] == "functional" else ""
        return f"{ticket.number} escalated{where} (level {record.level}).", ticket_url(ticket, "escalate")

    form = EscalateForm(request.POST, user=request.user)
    return _act(request, number, form=form, key="escalate_form", perform=perform, agents_only=True)


# --- small pieces the page loads in place ------------------------------------------------------
@login_required
@require_GET
def team_agents(request):
    """The agents of the chosen team, as the options of the assignee drop-down."""
    if not request.user.is_agent:
        raise PermissionDenied("This is for the service desk.")
    team = Team.objects.restrict(request.user, "view").filter(pk=request.GET.get("team") or None).first()
    return render(request, "tickets/partials/agent_options.html", {"agents": agents_of(team)})


@login_required
@require_GET
def priority_preview(request):
    """The priority the matrix gives to the impact and urgency being chosen."""
    if not request.user.is_agent:
        raise PermissionDenied("This is for the service desk.")
    try:
        impact, urgency = int(request.GET.get("impact", "")), int(request.GET.get("urgency", ""))
        priority = services.priority_for(impact=impact, urgency=urgency)
    except (ValueError, KeyError):
        priority = None
    return render(
        request,
        "tickets/partials/priority_preview.html",
        {"priority": priority, "badge": PRIORITY_BADGE.get(priority, "text-bg-light")},
    )


def known_errors_matching(user: Any, text: str):
    words = [word for word in text.split() if len(word) >= MIN_WORD][:KNOWN_ERROR_WORDS]
    if not words:
        return Problem.objects.none()
    match = Q()
    for word in words:
        match |= Q(title__icontains=word) | Q(workaround__icontains=word) | Q(root_cause__icontains=word)
    return (
        Problem.objects.restrict(user, "view")
        .filter(match, known_error=True)
        .order_by("-updated_at")[:KNOWN_ERROR_LIMIT]
    )


@login_required
@require_GET
def known_errors(request, number: str):
    """Known errors whose words match (the ticket's title by default), to link or to read the workaround."""
    if not request.user.is_agent:
        raise PermissionDenied("This is for the service desk.")
    ticket = ticket_or_404(request.user, number)
    query = request.GET.get("q", ticket.title).strip()
    context = {
        "ticket": ticket,
        "query": query,
        "results": list(known_errors_matching(request.user, query)),
        "can_link": ticket.type == TicketType.INCIDENT
        and may(request.user, "change", ticket)
        and not request.user.is_read_only,
    }
    template = (
        "tickets/partials/known_errors.html"
        if request.headers.get("HX-Request")
        else "tickets/known_errors.html"
    )
    return render(request, template, context)


@login_required
@require_GET
def download(request, pk: int):
    """A file, as a download under its original name, if the reader may see it."""
    try:
        attachment = Attachment.objects.restrict(request.user, "view").get(pk=pk)
    except Attachment.DoesNotExist as exc:
        raise Http404("No file here.") from exc
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
