"""Object-level permissions applied at the queryset, as NetBox does.

Each app registers one rule per model in its ``permissions.py``. A rule answers, for a user
and an action, either ``True`` (every row), ``False`` (none) or a ``Q`` (the rows they may
touch). A model without a rule is visible to nobody but full administrators: deny by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models import Q

Rule = Callable[[Any, str], "Q | bool"]
_rules: dict[type[models.Model], Rule] = {}

ACTIONS = ("view", "add", "change", "delete")


def register_rule(model: type[models.Model], rule: Rule) -> None:
    _rules[model] = rule


def rule_for(model: type[models.Model]) -> Rule | None:
    for klass in model.__mro__:
        if klass in _rules:
            return _rules[klass]
    return None


def permission_filter(user: Any, action: str, model: type[models.Model]) -> Q | bool:
    """The rows of ``model`` on which ``user`` may perform ``action``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "can_write_all", False):
        return True
    if getattr(user, "can_read_all", False):
        if action == "view":
            return True
        # Read-only roles (auditors) never change anything, whatever a rule says.
        if getattr(user, "is_read_only", False):
            return False
    rule = rule_for(model)
    if rule is None:
        return False
    return rule(user, action)


def user_can(user: Any, action: str, model: type[models.Model]) -> bool:
    """Whether the user may perform ``action`` on at least some rows (used for "add")."""
    return permission_filter(user, action, model) is not False


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = "view") -> RestrictedQuerySet:
        allowed = permission_filter(user, action, self.model)
        if allowed is True:
            return self
        if allowed is False:
            return self.none()
        # Rules express to-many conditions as ``pk__in`` subqueries, so no row repeats.
        return self.filter(allowed)
