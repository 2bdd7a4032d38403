"""The team skills matrix: coverage of each skill per team now, and the gaps routing would hit."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from opsdesk.learning import selectors
from opsdesk.learning.constants import DEFAULT_MIN_ON_SHIFT

MAX_MINIMUM = 50


@login_required
def skills_matrix(request):
    if not request.user.is_agent:
        raise PermissionDenied("The skills matrix is for support staff.")
    raw = request.GET.get("min", "")
    minimum = int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_MINIMUM else DEFAULT_MIN_ON_SHIFT
    matrix = selectors.skills_matrix(actor=request.user, minimum=minimum)
    return render(
        request,
        "learning/skills_matrix.html",
        {"matrix": matrix, "minimum": minimum, "max_minimum": MAX_MINIMUM},
    )
