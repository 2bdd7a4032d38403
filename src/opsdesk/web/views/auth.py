from django.shortcuts import render


def lockout_response(request, credentials, *args, **kwargs):
    """Shown by django-axes when an account is locked after repeated failed logins."""
    if request.path.startswith("/api/"):
        from opsdesk.core.api.errors import problem_json_response

        return problem_json_response(429, "locked_out", "Too many failed logins. Try again later.")
    return render(request, "web/locked_out.html", status=429)
