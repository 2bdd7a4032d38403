from rest_framework import permissions

from opsdesk.core.querysets import user_can

ACTION_FOR_METHOD = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class RestrictedPermission(permissions.BasePermission):
    """Signed-in users only; writes need the model-level right. Object-level rights are
    enforced by the viewset's restricted querysets (a forbidden object is a 404)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        action = ACTION_FOR_METHOD.get(request.method)
        queryset = getattr(view, "queryset", None)
        if action is None or queryset is None:
            return True
        return user_can(request.user, action, queryset.model)
