"""The knowledge panel of a ticket page.

``{% load knowledge %}`` then ``{% kb_panel ticket %}``. Agents see the articles linked to the
ticket (with a form to link one); suggested articles for its title and similar resolved
tickets load into it afterwards from ``knowledge:suggest?ticket=<number>``; requesters see
only the public, published articles an agent linked.
"""

from __future__ import annotations

from typing import Any

from django import template

from opsdesk.knowledge import selectors
from opsdesk.knowledge.forms import LinkArticleForm

register = template.Library()


@register.inclusion_tag("knowledge/partials/kb_panel.html", takes_context=True)
def kb_panel(context: template.Context, ticket: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return {"show": False}
    links = list(selectors.ticket_articles(user=user, ticket=ticket))
    if not user.is_agent:
        return {"show": bool(links), "links": links, "agent": False}
    # Suggested articles and similar tickets load after the page (knowledge:suggest?ticket=):
    # their full-text searches never hold the ticket page up.
    return {
        "show": True,
        "agent": True,
        "ticket": ticket,
        "links": links,
        "form": LinkArticleForm(),
        "csrf_token": context.get("csrf_token"),
        "can_link": not user.is_read_only,
    }
