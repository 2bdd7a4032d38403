"""WebSocket routes of the live chat (mounted by config.asgi)."""

from django.urls import path

from opsdesk.chat import consumers

websocket_urlpatterns = [
    path("ws/chat/queue/", consumers.ChatQueueConsumer.as_asgi()),
    path("ws/chat/<int:session_id>/", consumers.ChatSessionConsumer.as_asgi()),
]
