"""WebSocket routes of the live chat (mounted by config.asgi)."""

from django.urls import path  # noqa: F401

websocket_urlpatterns: list = []
