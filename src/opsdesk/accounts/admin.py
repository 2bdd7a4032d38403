from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from opsdesk.accounts.models import (
    Absence,
    AgentSkill,
    ApiToken,
    Location,
    Organization,
    Shift,
    Skill,
    Team,
    TeamMembership,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "organization", "is_active")
    list_filter = ("role", "is_active", "organization")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "OpsDesk",
            {
                "fields": (
                    "role",
                    "organization",
                    "location",
                    "job_title",
                    "phone",
                    "language",
                    "time_zone",
                    "is_vip",
                    "presence",
                )
            },
        ),
    )


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "lead", "email")
    inlines = (MembershipInline,)
    search_fields = ("name",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent", "requesters_see_organization", "is_vip")
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "last_used_at")


for model in (Location, Skill, AgentSkill, Shift, Absence):
    admin.site.register(model)
