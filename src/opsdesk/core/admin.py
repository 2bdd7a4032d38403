from django.contrib import admin

from opsdesk.core.models import AuditEntry, Job, Schedule, SecurityEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_name", "channel", "operation", "content_type", "object_repr")
    list_filter = ("channel", "operation", "content_type")
    search_fields = ("object_repr", "actor_name", "object_id")


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "username", "ip", "path")
    list_filter = ("kind",)
    search_fields = ("username", "ip")


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "status", "started_at", "finished_at")
    list_filter = ("status", "name")


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "task", "cron", "enabled", "next_run_at", "last_run_at")
    list_editable = ("enabled",)
