"""What the global search box finds in the portfolio."""

from opsdesk.core.search import register_search
from opsdesk.portfolio.models import Provider, Service


def register() -> None:
    register_search(Service, fields=("name", "description"), label="Service")
    register_search(Provider, fields=("name", "email"), label="Provider")
