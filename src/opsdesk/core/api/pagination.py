from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Keyset pagination: stable and fast however deep a client pages. ``?ordering=`` picks
    the key; ``id`` breaks ties so no row is skipped or repeated."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering = (*ordering, "-id" if ordering and ordering[0].startswith("-") else "id")
        return ordering
