"""Live chat records: a session between a requester and an agent of a team, and its messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from opsdesk.chat.choices import SessionStatus
from opsdesk.chat.constants import MAX_MESSAGE_LENGTH
from opsdesk.core.models import AppendOnlyModel, AuditedModel


class ChatSession(AuditedModel):
    """One conversation: a requester asks a team, an agent of that team accepts and answers.

    The transcript can become a ticket or join one; ``ticket`` then links to it.
    """

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="chats")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="chats")
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.WAITING, db_index=True
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="chats_answered",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(
        max_length=200, blank=True, help_text="Where the chat was opened: the portal or an embedding site."
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="chats"
    )

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["team", "status", "created_at"], name="chat_queue_idx"),
            models.Index(fields=["requester", "-created_at"], name="chat_requester_idx"),
            models.Index(fields=["agent", "status"], name="chat_agent_idx"),
        ]

    def __str__(self) -> str:
        return f"Chat #{self.pk} with {self.requester} ({self.get_status_display().lower()})"

    @property
    def group_name(self) -> str:
        return session_group(self.pk)


class ChatMessage(AppendOnlyModel):
    """One line of a chat, as written (plain text; shown escaped). Never changed once sent."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=MAX_MESSAGE_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["session", "id"], name="chatmessage_session_idx")]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"


def session_group(session_id: int) -> str:
    """The channel-layer group of one chat's participants."""
    return f"chat.session.{session_id}"


def queue_group(team_id: int) -> str:
    """The channel-layer group of the agents watching a team's chat queue."""
    return f"chat.queue.{team_id}"
