"""The article lifecycle as a table: from → to, and who may make the move.

``writer``: any agent who may change the article; ``publisher``: its owner, one of its
reviewers, or a manager/administrator.
"""

from __future__ import annotations

from dataclasses import dataclass

from opsdesk.knowledge.choices import ArticleStatus

WRITER = "writer"
PUBLISHER = "publisher"


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    who: str
    verb: str


MOVES = (
    Move(ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW, WRITER, "Send for review"),
    Move(ArticleStatus.DRAFT, ArticleStatus.PUBLISHED, PUBLISHER, "Publish"),
    Move(ArticleStatus.IN_REVIEW, ArticleStatus.PUBLISHED, PUBLISHER, "Approve and publish"),
    Move(ArticleStatus.IN_REVIEW, ArticleStatus.DRAFT, WRITER, "Back to draft"),
    Move(ArticleStatus.PUBLISHED, ArticleStatus.RETIRED, PUBLISHER, "Retire"),
    Move(ArticleStatus.PUBLISHED, ArticleStatus.DRAFT, PUBLISHER, "Unpublish"),
    Move(ArticleStatus.RETIRED, ArticleStatus.DRAFT, PUBLISHER, "Revive as draft"),
)


def move_for(source: str, target: str) -> Move | None:
    return next((move for move in MOVES if move.source == source and move.target == target), None)


def moves_from(source: str) -> list[Move]:
    return [move for move in MOVES if move.source == source]
