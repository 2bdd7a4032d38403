"""Who reads and writes the knowledge base.

Requesters read published public articles. Agents read public and internal articles in any
status, and a team's articles when they belong to that team (managers, auditors and admins
read everything through core). Agents write what they read; publishing is decided in the
services (owner, reviewers, managers). Versions, files and feedback follow their article.
"""

from __future__ import annotations

from django.db.models import Q

from opsdesk.accounts.models import TeamMembership, User
from opsdesk.core.querysets import register_rule
from opsdesk.knowledge.choices import ArticleStatus, Audience
from opsdesk.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleVersion,
    Deflection,
    TicketArticle,
)
from opsdesk.tickets.permissions import requester_tickets

READ = "view"


def requester_articles(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": ArticleStatus.PUBLISHED, f"{prefix}audience": Audience.PUBLIC})


def agent_articles(user: User, prefix: str = "") -> Q:
    teams = TeamMembership.objects.filter(user=user).values("team_id")
    return Q(**{f"{prefix}audience__in": (Audience.PUBLIC, Audience.INTERNAL)}) | Q(
        **{f"{prefix}audience": Audience.TEAM, f"{prefix}team_id__in": teams}
    )


def readable_articles(user: User, prefix: str = "") -> Q:
    return agent_articles(user, prefix) if user.is_agent else requester_articles(prefix)


# The search's form of ``readable_articles`` (``core.search.SearchTarget.reader_keys``): the keys
# a reader holds, which ``search_index.article_readers`` puts on the articles they may read. A
# change to either rule is a change to both (tests/knowledge/test_search_readers.py).
PUBLISHED_PUBLIC_KEY = "pub"  # requesters: published public articles
STAFF_KEY = "staff"  # agents: public and internal articles, whatever their status


def team_key(team_id: int) -> str:
    return f"t{team_id}"


def article_reader_keys(user: User) -> list[str]:
    if not user.is_agent:
        return [PUBLISHED_PUBLIC_KEY]
    teams = TeamMembership.objects.filter(user=user).values_list("team_id", flat=True)
    return [STAFF_KEY, *(team_key(team) for team in teams)]


def articles_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return readable_articles(user)
    if not user.is_agent:
        return False
    if user.is_manager:
        # Managers keep the whole knowledge base; articles are retired, deletion is for mistakes.
        return True
    if action == "delete":
        return False
    return agent_articles(user)


def versions_rule(user: User, action: str) -> Q | bool:
    # Versions are written by the article services; agents read the history of what they read.
    if action != READ or not user.is_agent:
        return False
    return agent_articles(user, "article__")


def attachments_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return readable_articles(user, "article__")
    return agent_articles(user, "article__") if user.is_agent and action != "delete" else False


def feedback_rule(user: User, action: str) -> Q | bool:
    # Everyone keeps their own verdict; agents read all verdicts on the articles they read.
    if action == READ and user.is_agent:
        return agent_articles(user, "article__") | Q(user=user)
    if action in (READ, "add", "change"):
        return Q(user=user) & readable_articles(user, "article__")
    return False


def ticket_links_rule(user: User, action: str) -> Q | bool:
    if user.is_agent:
        # Agents link the articles that resolved a ticket, and remove a wrong link.
        return True
    if action != READ:
        return False
    return requester_tickets(user, "ticket__") & requester_articles("article__")


def deflections_rule(user: User, action: str) -> Q | bool:
    if action == READ:
        return True if user.is_agent else Q(user=user)
    return Q(user=user) if action == "add" else False


def register() -> None:
    register_rule(Article, articles_rule)
    register_rule(ArticleVersion, versions_rule)
    register_rule(ArticleAttachment, attachments_rule)
    register_rule(ArticleFeedback, feedback_rule)
    register_rule(TicketArticle, ticket_links_rule)
    register_rule(Deflection, deflections_rule)
