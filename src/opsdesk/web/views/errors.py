"""Error pages: HTML for people, problem details for /api/ clients."""

from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

from opsdesk.core.api.errors import problem_json_response
from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.security_events import security_event_record

ERROR_TITLES = {
    400: "That request did not make sense",
    403: "You do not have access to this page",
    404: "Page not found",
    500: "Something went wrong",
}


def _error(request, status: int, code: str, message: str):
    if request.path.startswith("/api/"):
        return problem_json_response(status, code, message)
    context = {"status": status, "title": ERROR_TITLES.get(status, "Error"), "message": message}
    return render(request, "web/error.html", context, status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    return _error(request, 400, "bad_request", "The request could not be understood.")


@requires_csrf_token
def permission_denied(request, exception=None):
    # Every refusal a web view raises passes here, so this is the one place that logs it.
    # The API logs its own refusals and answers them before this handler is reached.
    if not request.path.startswith("/api/"):
        user = getattr(request, "user", None)
        security_event_record(
            kind=SecurityEventKind.PERMISSION_DENIED,
            request=request,
            user=user,
            reason=str(exception or "")[:200],
        )
    return _error(
        request,
        403,
        "permission_denied",
        "Your role does not allow this. If you need it for your work, ask a manager or an administrator.",
    )


@requires_csrf_token
def page_not_found(request, exception=None):
    return _error(
        request, 404, "not_found", "There is nothing at this address, or it is not shared with you."
    )


@requires_csrf_token
def server_error(request):
    return _error(request, 500, "server_error", "Something went wrong on our side. It has been logged.")
