"""Error pages: HTML for people, problem details for /api/ clients."""

from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

from opsdesk.core.api.errors import problem_json_response


def _error(request, status: int, code: str, message: str):
    if request.path.startswith("/api/"):
        return problem_json_response(status, code, message)
    return render(request, "web/error.html", {"status": status, "message": message}, status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    return _error(request, 400, "bad_request", "The request could not be understood.")


@requires_csrf_token
def permission_denied(request, exception=None):
    return _error(request, 403, "permission_denied", "You do not have permission to see this page.")


@requires_csrf_token
def page_not_found(request, exception=None):
    return _error(request, 404, "not_found", "There is nothing at this address.")


@requires_csrf_token
def server_error(request):
    return _error(request, 500, "server_error", "Something went wrong on our side. It has been logged.")
