"""``Authorization: Bearer <token>`` authentication for the API."""

from __future__ import annotations

from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from opsdesk.core.choices import SecurityEventKind
from opsdesk.core.security_events import security_event_record

# The token store belongs to the accounts app, which sits above core: reach it by name.
TOKEN_AUTHENTICATOR = "opsdesk.accounts.services.token_authenticate"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send exactly one token: 'Authorization: Bearer <token>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token contains characters a token never has.") from exc
        user = import_string(TOKEN_AUTHENTICATOR)(raw)
        if user is None:
            security_event_record(
                kind=SecurityEventKind.TOKEN_REJECTED, request=request._request, token=raw[:12]
            )
            raise exceptions.AuthenticationFailed("The token is unknown, revoked or expired.")
        return (user, raw)

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes bearer tokens in the OpenAPI schema."""

    target_class = "opsdesk.core.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from 'opsdesk token create' or POST /api/v1/auth/token/.",
        }
