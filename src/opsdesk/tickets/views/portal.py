"""The requester's side: report a problem or ask for something, follow your tickets, and rate
the answer — also from the one-click link in the e-mail, without signing in."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from opsdesk.core.exceptions import NotAllowed, ServiceError
from opsdesk.core.uploads import check_upload
from opsdesk.tickets import selectors, services
from opsdesk.tickets.choices import LOW_RATING, OPEN_STATUSES, Channel, PendingReason, Status, TicketType
from opsdesk.tickets.forms import RATING_LABELS, RatingCommentForm, TicketCreateForm
from opsdesk.tickets.models import Survey
from opsdesk.tickets.services.surveys import RATINGS
from opsdesk.tickets.views.common import decorate, styled

PAGE_SIZE = 20
RECENT = 5


def portal_context(user: Any) -> dict[str, Any]:
    """What the portal's "Report a problem / Request something / Your tickets" block needs
    (two queries): the newest tickets the user raised and how many are open or wait on them."""
    own = selectors.ticket_list_for(user=user).filter(requester=user)
    counts = own.aggregate(
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        waiting=Count("id", filter=Q(status=Status.PENDING, pending_reason=PendingReason.REQUESTER)),
    )
    return {
        "ticket_recent": decorate(own.order_by("-id")[:RECENT]),
        "ticket_open_count": counts["open"],
        "ticket_waiting_count": counts["waiting"],
    }


@login_required
def requester_list(request):
    """The tickets a person follows: their own, those they watch, and their organisation's
    where it shares them."""
    user = request.user
    show_closed = request.GET.get("show") == "closed"
    tickets = selectors.ticket_list_for(user=user)
    tickets = (
        tickets.exclude(status__in=OPEN_STATUSES) if show_closed else tickets.filter(status__in=OPEN_STATUSES)
    )
    page = Paginator(tickets.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/requester_list.html",
        {"page_obj": page, "tickets": decorate(page.object_list), "show_closed": show_closed},
    )


@login_required
def create(request):
    """Report a problem or ask for something, in plain words, with an optional file."""
    user = request.user
    if user.is_read_only:
        raise PermissionDenied("Read-only roles raise no tickets.")
    kind = request.GET.get("type")
    initial = {"type": kind} if kind in TicketType.values else {}
    form = styled(TicketCreateForm(request.POST or None, request.FILES or None, user=user, initial=initial))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.pop("attachment")
        try:
            if upload:
                check_upload(upload, field="attachment")
            with transaction.atomic():
                ticket = services.ticket_create(actor=user, channel=Channel.PORTAL, **data)
                if upload:
                    services.ticket_attach(actor=user, ticket=ticket, upload=upload, public=True)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        else:
            messages.success(
                request, f"Thank you — we have your ticket {ticket.number} and will get back to you."
            )
            return redirect("tickets:detail", number=ticket.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "tickets/ticket_form.html", {"form": form, "kind": kind}, status=status)


def _survey_for(token: str, rating: int) -> Survey:
    if rating not in RATINGS:
        raise Http404("Ratings go from 1 to 5.")
    try:
        return Survey.objects.select_related("ticket", "ticket__requester").get(token=token)
    except Survey.DoesNotExist as exc:
        raise Http404("This rating link is not valid.") from exc


@require_http_methods(["GET", "POST"])
def rate_by_link(request, token: str, rating: int):
    """The one-click link from the e-mail. The token is the proof; GET only shows the choice
    (mail scanners follow links), the button POSTs it."""
    survey = _survey_for(token, rating)
    form = styled(RatingCommentForm(request.POST or None))
    context = {
        "survey": survey,
        "ticket": survey.ticket,
        "rating": rating,
        "rating_label": RATING_LABELS[rating],
        "low": rating <= LOW_RATING,
        "form": form,
        "ratings": [(value, RATING_LABELS[value]) for value in RATINGS],
        "done": survey.answered_at is not None,
    }
    if request.method == "POST" and not context["done"] and form.is_valid():
        try:
            services.survey_answer(
                survey=survey,
                rating=rating,
                comment=form.cleaned_data["comment"],
                reopen=context["low"] and request.POST.get("reopen") == "on",
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            return render(request, "tickets/rate_thanks.html", context)
    return render(request, "tickets/rate_link.html", context, status=400 if request.method == "POST" else 200)


def rate_url(survey: Survey, rating: int) -> str:
    """The address of a one-click rating, for the e-mail that asks for it."""
    return reverse("tickets:rate_link", args=[survey.token, rating])
