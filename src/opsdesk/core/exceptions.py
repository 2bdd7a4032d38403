"""Errors that services raise; the API and the web layer turn each into a clear answer."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule of the domain refused the operation. ``code`` is stable, ``message`` is for people."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Several fields at once (a form's answers): ``{field: [message, …]}``.
        self.errors = errors
        if code:
            self.code = code


class NotAllowed(ServiceError):
    status = 403
    code = "permission_denied"


class ConcurrencyConflict(ServiceError):
    status = 409
    code = "stale_version"
