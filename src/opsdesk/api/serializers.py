from rest_framework import serializers

from opsdesk.core.models import AuditEntry, Job, SecurityEvent


class AuditEntrySerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "at",
            "actor",
            "actor_name",
            "channel",
            "operation",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "request_id",
            "ip",
        )

    def get_object_type(self, entry: AuditEntry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"


class SecurityEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecurityEvent
        fields = ("id", "at", "kind", "user", "username", "ip", "user_agent", "path", "detail")


class JobSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = (
            "id",
            "name",
            "status",
            "attempt",
            "arguments",
            "started_at",
            "finished_at",
            "duration_seconds",
            "log",
            "error",
        )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})
    name = serializers.CharField(max_length=100, required=False, default="API token")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown once. Send it as 'Authorization: Bearer <token>'.")
    name = serializers.CharField()
    prefix = serializers.CharField()
