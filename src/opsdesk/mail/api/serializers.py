"""E-mail intake over REST: mailboxes (secrets write-only) and inbound messages (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from opsdesk.core.api.serializers import StrictModelSerializer
from opsdesk.mail.models import InboundMessage, Mailbox


class MailboxSerializer(StrictModelSerializer):
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)
    oauth2_token = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=8000)
    has_password = serializers.SerializerMethodField()
    has_oauth2_token = serializers.SerializerMethodField()

    class Meta:
        model = Mailbox
        fields = (
            "id",
            "name",
            "address",
            "kind",
            "is_active",
            "team",
            "service",
            "ticket_type",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_auth",
            "username",
            "password",
            "has_password",
            "oauth2_token",
            "has_oauth2_token",
            "folder",
            "after_processing",
            "processed_folder",
            "last_uid",
            "uidvalidity",
            "last_polled_at",
            "last_poll_ok",
            "last_poll_message",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "last_uid",
            "uidvalidity",
            "last_polled_at",
            "last_poll_ok",
            "last_poll_message",
            "created_at",
            "updated_at",
        )

    def get_has_password(self, obj: Mailbox) -> bool:
        return bool(obj.password)

    def get_has_oauth2_token(self, obj: Mailbox) -> bool:
        return bool(obj.oauth2_token)


class InboundMessageSerializer(StrictModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number", read_only=True, default=None)

    class Meta:
        model = InboundMessage
        fields = (
            "id",
            "mailbox",
            "message_id",
            "imap_uid",
            "uidvalidity",
            "sha256",
            "size",
            "envelope_from",
            "from_address",
            "from_name",
            "subject",
            "received_at",
            "processed_at",
            "status",
            "reason",
            "notes",
            "ticket",
            "ticket_number",
            "event",
            "duplicate_of",
            "attempts",
        )
        read_only_fields = fields
