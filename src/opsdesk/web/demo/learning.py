"""Demo learning: training records (one level awaiting the lead's confirmation), certifications
(two expiring within 30 days, one expired) and two learning paths built from the demo's
internal knowledge articles, one assigned to the Service Desk team and one to an agent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from opsdesk.accounts.models import Skill, Team, User
from opsdesk.knowledge.models import Article
from opsdesk.learning.models import Certification, LearningPath, LearningPathAssignment, TrainingRecord
from opsdesk.learning.services import (
    certification_create,
    learning_path_assign,
    learning_path_create,
    learning_path_step_create,
    step_complete,
    training_record_create,
)

# (username, course, provider, days ago, hours, skill, level reached, recorded by the lead)
TRAINING = [
    ("agent", "Windows 11 deployment and management", "Microsoft Learn", 120, 16, "Windows 11", 4, True),
    ("agent", "Printer fleet troubleshooting", "Internal academy", 40, 4, "Printers", 3, True),
    ("lead", "Coaching for team leads", "Internal academy", 200, 12, None, None, False),
    ("noc", "CCNP Enterprise bootcamp", "Cisco Networking Academy", 60, 40, "Cisco networking", 5, False),
    ("noc", "Site-to-site VPN in depth", "Internal academy", 15, 6, "VPN", 5, False),
]
# (username, name, issuer, certificate id, issued days ago, expires in days)
CERTIFICATIONS = [
    ("agent", "ITIL 4 Foundation", "PeopleCert", "GR671234567SS", 700, 400),
    ("agent", "Microsoft 365 Certified: Modern Desktop Administrator", "Microsoft", "MD-102-88213", 340, 21),
    ("noc", "Cisco CCNA", "Cisco", "CSCO12345678", 1080, 9),
    ("noc", "CompTIA Security+", "CompTIA", "COMP001234567", 1100, -5),
    ("lead", "ITIL 4 Managing Professional", "PeopleCert", "GR679876543MP", 500, 595),
]
PATHS = [
    (
        "Service Desk onboarding",
        "What every new agent reads in the first two weeks: how we work and the most common fixes.",
        8,
        "Service Desk",
        None,
        21,
    ),
    (
        "Network first response",
        "Before escalating a network ticket to L2: what to check, in order.",
        4,
        None,
        "agent",
        14,
    ),
]


def load_learning(admin: User) -> int:
    """Load the demo learning records (idempotent); returns how many records were added."""
    people = {user.username: user for user in User.objects.filter(username__in={"agent", "lead", "noc"})}
    if len(people) < 3:
        return 0
    skills = {skill.name: skill for skill in Skill.objects.all()}
    today = timezone.localdate()
    added = 0
    for username, title, provider, ago, hours, skill, level, by_lead in TRAINING:
        person = people[username]
        if TrainingRecord.objects.filter(user=person, title=title).exists():
            continue
        training_record_create(
            actor=people["lead"] if by_lead else person,
            data={
                "user": person,
                "title": title,
                "provider": provider,
                "completed_on": today - timedelta(days=ago),
                "hours": hours,
                "skill": skills.get(skill) if skill else None,
                "level_reached": level,
            },
        )
        added += 1
    for username, name, issuer, number, issued_ago, expires_in in CERTIFICATIONS:
        person = people[username]
        if Certification.objects.filter(user=person, name=name).exists():
            continue
        certification_create(
            actor=admin,
            data={
                "user": person,
                "name": name,
                "issuer": issuer,
                "certificate_id": number,
                "issued_on": today - timedelta(days=issued_ago),
                "expires_on": today + timedelta(days=expires_in),
            },
        )
        added += 1
    added += _load_paths(admin, people, today)
    return added


def _load_paths(admin: User, people: dict[str, User], today) -> int:
    articles = list(
        Article.objects.filter(status="published", audience__in=("internal", "public")).order_by("pk")[:12]
    )
    added = 0
    for index, (name, description, length, team_name, username, due_in) in enumerate(PATHS):
        if LearningPath.objects.filter(name=name).exists():
            continue
        path = learning_path_create(
            actor=admin, data={"name": name, "description": description, "owner": people["lead"]}
        )
        chosen = articles[index * 6 : index * 6 + length] or articles[:length]
        steps = [
            learning_path_step_create(actor=admin, data={"path": path, "article": article})
            for article in chosen
        ]
        assignee = (
            {"team": Team.objects.filter(name=team_name).first()} if team_name else {"user": people[username]}
        )
        if (
            any(assignee.values())
            and not LearningPathAssignment.objects.filter(path=path, **assignee).exists()
        ):
            learning_path_assign(
                actor=admin, data={"path": path, "due_on": today + timedelta(days=due_in), **assignee}
            )
        # The demo agent is part-way through the onboarding path.
        for step in steps[:3] if index == 0 else []:
            step_complete(actor=people["agent"], step=step)
        added += 1
    return added
