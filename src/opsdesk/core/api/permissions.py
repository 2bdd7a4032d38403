from rest_framework import permissions

from opsdesk.core.querysets import user_can

# The model-level right each standard viewset action needs. Extra actions (``/teams/{id}/members/``)
# are not listed: they fetch their object with "view" and their service decides.
ACTION_FOR_VIEW_ACTION = {
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


class RestrictedPermission(permissions.BasePermission):
    """Signed-in users only; writes need the model-level right. Object-level rights are
    enforced by the viewset's restricted querysets (a forbidden object is a 404)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        action = ACTION_FOR_VIEW_ACTION.get(getattr(view, "action", None) or "")
        queryset = getattr(view, "queryset", None)
        if action is None or queryset is None:
            return True
        return user_can(request.user, action, queryset.model)


class AuditorsAndAdmins(permissions.BasePermission):
    """The platform's own records (audit trail, security log, jobs): auditors and administrators read
    them; the viewsets using this are read-only, so a write is a 405 for them and a 403 for others."""

    message = "Only auditors and administrators may read this."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(
            user.is_active and (getattr(user, "is_admin", False) or getattr(user, "is_read_only", False))
        )
