"""Valid bodies to create one record at each endpoint."""

from __future__ import annotations

import datetime
import itertools

from django.utils import timezone

_unique = itertools.count(1)


def new_payload(endpoint: str, world) -> dict:
    """A valid body to create one record at ``endpoint``."""
    n = next(_unique)
    start = timezone.now() + datetime.timedelta(days=30 + n)
    return {
        "users": {"username": f"new{n}", "email": f"new{n}@example.com", "role": "agent"},
        "organizations": {"name": f"Initech {n}"},
        "teams": {"name": f"Team {n}", "tier": "L2"},
        "locations": {"name": f"Site {n}", "time_zone": "Europe/Paris"},
        "skills": {"name": f"Skill {n}"},
        "agent-skills": {"user": world.people.member.pk, "skill": world.spare_skill.pk, "level": 4},
        "shifts": {"user": world.people.member.pk, "weekday": 2, "starts": "09:00", "ends": "17:00"},
        "absences": {
            "user": world.people.member.pk,
            "kind": "training",
            "starts_at": start.isoformat(),
            "ends_at": (start + datetime.timedelta(hours=8)).isoformat(),
        },
    }[endpoint]
