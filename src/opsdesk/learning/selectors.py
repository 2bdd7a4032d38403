"""Reads of the learning app, restricted to what the reader may see: progress through paths,
expiring certifications, and the team skills matrix with its coverage gaps."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from opsdesk.accounts.choices import Availability
from opsdesk.accounts.models import AgentSkill, Skill, Team, TeamMembership, User
from opsdesk.accounts.selectors import user_availability
from opsdesk.knowledge.models import Article
from opsdesk.learning.choices import CertificationStatus
from opsdesk.learning.constants import DEFAULT_MIN_ON_SHIFT, DEMAND_WINDOW_DAYS
from opsdesk.learning.models import (
    Certification,
    LearningPath,
    LearningPathAssignment,
    LearningPathStep,
    StepCompletion,
    TrainingRecord,
)
from opsdesk.tickets.models import Category, Ticket


# --- records ------------------------------------------------------------------------------------
def training_list_for(*, user: User) -> QuerySet[TrainingRecord]:
    return TrainingRecord.objects.restrict(user, "view").select_related("user", "skill")


def certification_list_for(*, user: User) -> QuerySet[Certification]:
    return Certification.objects.restrict(user, "view").select_related("user")


def certifications_expiring_for(*, user: User) -> QuerySet[Certification]:
    """The "Expiring soon" list: expiring and already expired certificates the reader may see."""
    return (
        certification_list_for(user=user)
        .filter(status__in=(CertificationStatus.EXPIRING, CertificationStatus.EXPIRED))
        .order_by("expires_on", "pk")
    )


# --- paths and progress ---------------------------------------------------------------------------
@dataclass
class Progress:
    path: LearningPath
    user: User
    done: int
    total: int
    due_on: datetime.date | None = None
    via: list[str] = field(default_factory=list)
    last_read_at: datetime.datetime | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done >= self.total

    @property
    def overdue(self) -> bool:
        return bool(self.due_on and not self.complete and self.due_on < timezone.localdate())


def path_progress(*, path: LearningPath, user: User) -> tuple[int, int]:
    """(steps read, steps) of ``path`` for ``user``."""
    total = path.steps.count()
    done = StepCompletion.objects.filter(step__path=path, user=user).count()
    return done, total


def assigned_people(*, assignments) -> dict[tuple[int, int], dict]:
    """Expand assignments to people at read time: ``(path_id, user_id) -> {due_on, via}``.

    A team's assignment covers its active support staff now; with both a personal and a team
    assignment the earliest due date counts."""
    assignments = list(assignments)
    team_ids = {a.team_id for a in assignments if a.team_id}
    members: dict[int, list[int]] = {}
    for team_id, user_id in TeamMembership.objects.filter(
        team_id__in=team_ids, user__is_active=True
    ).values_list("team_id", "user_id"):
        members.setdefault(team_id, []).append(user_id)
    expanded: dict[tuple[int, int], dict] = {}
    for assignment in assignments:
        if assignment.user_id:
            people, via = [assignment.user_id], "personally"
        else:
            people, via = members.get(assignment.team_id, []), f"team {assignment.team.name}"
        for user_id in people:
            entry = expanded.setdefault((assignment.path_id, user_id), {"due_on": None, "via": []})
            entry["via"].append(via)
            if assignment.due_on and (entry["due_on"] is None or assignment.due_on < entry["due_on"]):
                entry["due_on"] = assignment.due_on
    return expanded


def _progress_rows(
    *, expanded: dict[tuple[int, int], dict], paths: dict[int, LearningPath]
) -> list[Progress]:
    if not expanded:
        return []
    user_ids = {user_id for _, user_id in expanded}
    people = {person.pk: person for person in User.objects.filter(pk__in=user_ids, is_active=True)}
    totals = dict(
        LearningPathStep.objects.filter(path_id__in=paths)
        .values("path_id")
        .annotate(n=Count("id"))
        .values_list("path_id", "n")
    )
    done = {
        (row["step__path_id"], row["user_id"]): (row["n"], row["last"])
        for row in StepCompletion.objects.filter(step__path_id__in=paths, user_id__in=user_ids)
        .values("step__path_id", "user_id")
        .annotate(n=Count("id"), last=Max("completed_at"))
    }
    rows = []
    for (path_id, user_id), entry in expanded.items():
        if user_id not in people:
            continue
        count, last = done.get((path_id, user_id), (0, None))
        rows.append(
            Progress(
                path=paths[path_id],
                user=people[user_id],
                done=count,
                total=totals.get(path_id, 0),
                due_on=entry["due_on"],
                via=entry["via"],
                last_read_at=last,
            )
        )
    rows.sort(key=lambda row: (row.path.name, row.due_on or datetime.date.max, str(row.user)))
    return rows


def my_learning(*, user: User) -> list[Progress]:
    """The active paths set for ``user`` (personally or through a team), with their progress."""
    mine = (
        LearningPathAssignment.objects.filter(path__is_active=True)
        .filter(Q(user=user) | Q(team_id__in=TeamMembership.objects.filter(user=user).values("team_id")))
        .select_related("path", "team")
    )
    expanded = {key: value for key, value in assigned_people(assignments=mine).items() if key[1] == user.pk}
    paths = {a.path_id: a.path for a in mine}
    rows = _progress_rows(expanded=expanded, paths=paths)
    rows.sort(key=lambda row: (row.complete, row.due_on or datetime.date.max, row.path.name))
    return rows


def _visible_people_filter(actor: User):
    """Whose progress ``actor`` may follow: everyone (managers, auditors), or self and led members."""
    if actor.can_read_all:
        return None
    return {actor.pk, *TeamMembership.objects.filter(team__lead=actor).values_list("user_id", flat=True)}


def progress_overview(*, actor: User, path: LearningPath | None = None) -> list[Progress]:
    """Who completed what: every assigned agent the actor may follow, per path."""
    assignments = LearningPathAssignment.objects.restrict(actor, "view").select_related("path", "team")
    if path is not None:
        assignments = assignments.filter(path=path)
    assignments = list(assignments)
    visible = _visible_people_filter(actor)
    expanded = {
        key: value
        for key, value in assigned_people(assignments=assignments).items()
        if visible is None or key[1] in visible
    }
    return _progress_rows(expanded=expanded, paths={a.path_id: a.path for a in assignments})


def path_steps_for(*, user: User, path: LearningPath) -> list[dict]:
    """The path's steps in order, each with whether ``user`` read it and may open its article."""

    steps = list(path.steps.select_related("article").order_by("position"))
    readable = set(
        Article.objects.restrict(user, "view")
        .filter(pk__in=[s.article_id for s in steps])
        .values_list("pk", flat=True)
    )
    read = dict(
        StepCompletion.objects.filter(step__in=steps, user=user).values_list("step_id", "completed_at")
    )
    return [
        {"step": step, "readable": step.article_id in readable, "read_at": read.get(step.pk)}
        for step in steps
    ]


# --- the team skills matrix ----------------------------------------------------------------------
@dataclass
class Cell:
    qualified: int = 0
    on_shift: int = 0
    needed: bool = False
    names_on_shift: list[str] = field(default_factory=list)


@dataclass
class Gap:
    team: Team | None
    skill: Skill
    level: int
    qualified: int
    on_shift: int
    minimum: int
    explanation: str


@dataclass
class SkillsMatrix:
    teams: list[Team]
    skills: list[Skill]
    levels: dict[int, int]
    cells: dict[tuple[int, int], Cell]
    desk: dict[int, Cell]
    gaps: list[Gap]
    minimum: int
    at: datetime.datetime

    def rows(self) -> list[tuple[Team, list[tuple[Skill, Cell]]]]:
        return [
            (team, [(skill, self.cells[(team.pk, skill.pk)]) for skill in self.skills]) for team in self.teams
        ]

    def desk_row(self) -> list[tuple[Skill, Cell]]:
        return [(skill, self.desk[skill.pk]) for skill in self.skills]


def required_skill_levels() -> dict[int, int]:
    """Skill id → the level routing needs: the highest minimum of the active categories that
    require the skill (an agent at that level can take any of their tickets)."""
    return dict(
        Category.objects.filter(is_active=True, required_skill__isnull=False)
        .values("required_skill")
        .annotate(level=Max("min_skill_level"))
        .values_list("required_skill", "level")
    )


def team_skill_demand(*, since: datetime.datetime) -> dict[tuple[int, int], dict[str, int]]:
    """(team id, skill id) → {category name: tickets} for tickets received since ``since``."""
    rows = (
        Ticket.objects.filter(
            created_at__gte=since,
            assigned_team__isnull=False,
            category__is_active=True,
            category__required_skill__isnull=False,
        )
        .values("assigned_team_id", "category__required_skill_id", "category_id")
        .annotate(n=Count("id"))
    )
    names = {c.pk: str(c) for c in Category.objects.filter(pk__in={row["category_id"] for row in rows})}
    demand: dict[tuple[int, int], dict[str, int]] = {}
    for row in rows:
        key = (row["assigned_team_id"], row["category__required_skill_id"])
        demand.setdefault(key, {})[names[row["category_id"]]] = row["n"]
    return demand


def skills_matrix(
    *,
    actor: User,
    at: datetime.datetime | None = None,
    minimum: int = DEFAULT_MIN_ON_SHIFT,
    demand_days: int = DEMAND_WINDOW_DAYS,
) -> SkillsMatrix:
    """Teams × skills: how many members hold each skill at the level routing needs, and how many
    of those can take work now (on shift, present, not absent), with the gaps: a required skill
    with fewer than ``minimum`` qualified agents on shift, for each team whose tickets need it
    (tickets of a category requiring it in the last ``demand_days`` days) and for the desk."""
    at = at or timezone.now()
    teams = list(Team.objects.restrict(actor, "view").order_by("tier", "name"))
    levels = required_skill_levels()
    held_skill_ids = set(AgentSkill.objects.values_list("skill_id", flat=True).distinct())
    skills = list(Skill.objects.restrict(actor, "view").filter(pk__in=set(levels) | held_skill_ids))
    skills.sort(key=lambda s: (s.pk not in levels, s.category, s.name))
    for skill in skills:
        skill.required_level = levels.get(skill.pk)
    members: dict[int, list[User]] = {}
    people: dict[int, User] = {}
    for membership in (
        TeamMembership.objects.filter(team__in=teams, user__is_active=True)
        .select_related("user")
        .prefetch_related("user__shifts")
    ):
        person = people.setdefault(membership.user_id, membership.user)
        if person.is_agent:
            members.setdefault(membership.team_id, []).append(person)
    available = {
        pk for pk, person in people.items() if user_availability(user=person, at=at) == Availability.AVAILABLE
    }
    holdings = {
        (row[0], row[1]): row[2]
        for row in AgentSkill.objects.filter(user_id__in=people, skill__in=skills).values_list(
            "user_id", "skill_id", "level"
        )
    }
    demand = team_skill_demand(since=at - datetime.timedelta(days=demand_days))
    cells: dict[tuple[int, int], Cell] = {}
    desk = {skill.pk: Cell(needed=skill.pk in levels) for skill in skills}
    counted: dict[int, set[int]] = {skill.pk: set() for skill in skills}
    gaps: list[Gap] = []
    for team in teams:
        for skill in skills:
            cell = Cell(needed=(team.pk, skill.pk) in demand)
            for person in members.get(team.pk, []):
                level = holdings.get((person.pk, skill.pk))
                if level is None or level < levels.get(skill.pk, 1):
                    continue
                cell.qualified += 1
                if person.pk in available:
                    cell.on_shift += 1
                    cell.names_on_shift.append(str(person))
                if person.pk not in counted[skill.pk]:
                    counted[skill.pk].add(person.pk)
                    desk[skill.pk].qualified += 1
                    if person.pk in available:
                        desk[skill.pk].on_shift += 1
                        desk[skill.pk].names_on_shift.append(str(person))
            cells[(team.pk, skill.pk)] = cell
            if cell.needed and cell.on_shift < minimum:
                gaps.append(
                    _gap(
                        team=team,
                        skill=skill,
                        level=levels[skill.pk],
                        cell=cell,
                        minimum=minimum,
                        categories=demand[(team.pk, skill.pk)],
                        days=demand_days,
                    )
                )
    for skill in skills:
        cell = desk[skill.pk]
        if skill.pk in levels and cell.on_shift < minimum:
            gaps.append(_gap(team=None, skill=skill, level=levels[skill.pk], cell=cell, minimum=minimum))
    return SkillsMatrix(teams, skills, levels, cells, desk, gaps, minimum, at)


def _gap(
    *, team, skill, level, cell: Cell, minimum: int, categories: dict | None = None, days: int = 0
) -> Gap:
    where = team.name if team else "The whole desk"
    parts = [
        f"{where} has {cell.on_shift} of {minimum} needed agents on shift now with {skill.name} "
        f"at level {level} or above ({cell.qualified} qualified in all)."
    ]
    if categories:
        listed = ", ".join(f"{name} ({count})" for name, count in sorted(categories.items()))
        parts.append(f"Its tickets need it: {listed} in the last {days} days.")
    else:
        parts.append("Skills-based routing needs it for categories that require it.")
    if cell.qualified and cell.on_shift < cell.qualified:
        parts.append("Some qualified agents are off shift, away or absent.")
    elif not cell.qualified:
        parts.append("Nobody holds it at that level: train someone or record their level.")
    return Gap(team, skill, level, cell.qualified, cell.on_shift, minimum, " ".join(parts))
