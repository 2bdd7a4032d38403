"""Reads of people and organisation, restricted to what the reader may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet
from django.utils import timezone

from opsdesk.accounts.choices import Availability, Presence
from opsdesk.accounts.models import Organization, Shift, Team, User


def user_list_for(*, user: User) -> QuerySet[User]:
    return User.objects.restrict(user, "view").select_related("organization", "location")


def user_get_for(*, user: User, pk: int, action: str = "view") -> User:
    """The person ``pk`` if ``user`` may perform ``action`` on them; raises User.DoesNotExist otherwise,
    so a forbidden record looks exactly like a missing one."""
    return User.objects.restrict(user, action).select_related("organization", "location").get(pk=pk)


def organization_list_for(*, user: User) -> QuerySet[Organization]:
    return (
        Organization.objects.restrict(user, "view")
        .select_related("parent")
        .annotate(member_count=Count("members", distinct=True))
    )


def team_list_for(*, user: User) -> QuerySet[Team]:
    return (
        Team.objects.restrict(user, "view")
        .select_related("lead")
        .annotate(member_count=Count("memberships", distinct=True))
    )


def _on_shift(shifts: list[Shift], local: datetime) -> bool:
    clock, weekday = local.time(), local.weekday()
    for shift in shifts:
        if shift.starts < shift.ends:
            if shift.weekday == weekday and shift.starts <= clock < shift.ends:
                return True
        # An overnight shift covers the evening of its day and the morning of the next.
        elif (shift.weekday == weekday and clock >= shift.starts) or (
            (shift.weekday + 1) % 7 == weekday and clock < shift.ends
        ):
            return True
    return False


def user_availability(*, user: User, at: datetime | None = None) -> str:
    """Whether an agent can take work at ``at``: out of office beats away beats off shift.

    An agent with no shifts recorded counts as always on shift.
    """
    at = at or timezone.now()
    if user.absences.filter(starts_at__lte=at, ends_at__gt=at).exists():
        return Availability.OUT_OF_OFFICE
    if user.presence == Presence.AWAY:
        return Availability.AWAY
    shifts = list(user.shifts.all())
    if shifts and not _on_shift(shifts, at.astimezone(ZoneInfo(user.time_zone))):
        return Availability.OFF_SHIFT
    return Availability.AVAILABLE


def shift_hours_per_week(*, shifts: list[Shift]) -> float:
    total = timedelta()
    for shift in shifts:
        start = datetime.combine(datetime.min.date(), shift.starts)
        end = datetime.combine(datetime.min.date(), shift.ends)
        if shift.ends <= shift.starts:
            end += timedelta(days=1)
        total += end - start
    return round(total.total_seconds() / 3600, 2)
