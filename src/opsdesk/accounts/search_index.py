"""What the global search box finds among people and organisation."""

from opsdesk.accounts.models import Location, Organization, Team, User
from opsdesk.core.search import register_search


def register() -> None:
    register_search(
        User,
        fields=("username", "first_name", "last_name", "email"),
        label="Person",
        describe=lambda user: f"{user} <{user.email}>" if user.email else str(user),
    )
    register_search(Organization, fields=("name", "email_domain"), label="Organisation")
    register_search(Team, fields=("name", "email"), label="Team")
    register_search(Location, fields=("name", "city"), label="Location")
