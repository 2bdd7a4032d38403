"""Where people land: the agent home at "/" and the portal for requesters."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone

from opsdesk.accounts.choices import Availability
from opsdesk.accounts.models import Team
from opsdesk.accounts.selectors import user_availability
from opsdesk.core.models import AuditEntry
from opsdesk.core.querysets import user_can
from opsdesk.core.selectors import audit_entries_for
from opsdesk.portfolio.choices import Channel, PolicyStatus, ServiceType, Stage
from opsdesk.portfolio.models import Service, SupportPolicy, SupportPolicyVersion
from opsdesk.tickets.views.portal import portal_context

RECENT_ACTIVITY = 8
UPCOMING_ABSENCES = 5


@login_required
def home(request):
    user = request.user
    if user.is_requester:
        return redirect("portal")
    now = timezone.now()
    availability = user_availability(user=user, at=now)
    # Filter by a subquery, not through user.teams: counting across that join would count
    # only this user's own membership.
    teams = list(
        Team.objects.restrict(user, "view")
        .filter(pk__in=user.team_memberships.values("team_id"))
        .select_related("lead")
        .annotate(member_count=Count("memberships", distinct=True))
    )
    context = {
        "teams": teams,
        "led_team_ids": {team.pk for team in teams if team.lead_id == user.pk},
        "availability": availability,
        "availability_label": Availability(availability).label,
        "shifts": list(user.shifts.all()),
        "absences": list(user.absences.filter(ends_at__gt=now).order_by("starts_at")[:UPCOMING_ABSENCES]),
        "skills": list(user.skills.select_related("skill")),
        "can_read_audit": user_can(user, "view", AuditEntry),
        "recent_activity": list(audit_entries_for(user=user)[:RECENT_ACTIVITY]),
    }
    return render(request, "web/home_agent.html", context)


def portal_services(user) -> list[Service]:
    """Catalogue services the user can use (not the technical ones), each with its channels and
    the support policy in force (the latest published version already effective), in three
    queries however many services there are."""
    today = timezone.localdate()
    in_force = (
        SupportPolicyVersion.objects.restrict(user, "view")
        .filter(status=PolicyStatus.PUBLISHED, effective_from__lte=today)
        .order_by("-effective_from", "-number")
    )
    policies = SupportPolicy.objects.restrict(user, "view").prefetch_related(
        Prefetch("versions", queryset=in_force, to_attr="versions_in_force")
    )
    services = list(
        Service.objects.restrict(user, "view")
        .filter(stage=Stage.CATALOGUE)
        # Technical services (hosting, networks) serve other services, not people directly.
        .exclude(type=ServiceType.TECHNICAL)
        .prefetch_related(Prefetch("support_policies", queryset=policies, to_attr="visible_policies"))
        .order_by("name")
    )
    for service in services:
        service.channel_labels = [
            Channel(value).label for value in service.channels if value in Channel.values
        ]
        service.policy_in_force = next(
            (
                (policy, policy.versions_in_force[0])
                for policy in service.visible_policies
                if policy.versions_in_force
            ),
            None,
        )
    return services


@login_required
def portal(request):
    user = request.user
    context = {"organization": user.organization, "services": portal_services(user), **portal_context(user)}
    return render(request, "web/portal.html", context)
