from django.urls import path

from opsdesk.accounts import views

app_name = "accounts"


def crud(prefix: str, name: str, list_view, detail_view, edit_view, delete_view=None) -> list:
    """The usual four pages of a record: list, detail, add, edit (and delete where it exists)."""
    routes = [
        path(f"{prefix}/", list_view.as_view(), name=f"{name}_list"),
        path(f"{prefix}/add/", edit_view.as_view(), name=f"{name}_add"),
        path(f"{prefix}/<int:pk>/", detail_view.as_view(), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/edit/", edit_view.as_view(), name=f"{name}_edit"),
    ]
    if delete_view is not None:
        routes.append(path(f"{prefix}/<int:pk>/delete/", delete_view.as_view(), name=f"{name}_delete"))
    return routes


urlpatterns = [
    *crud("users", "user", views.UserListView, views.UserDetailView, views.UserEditView),
    *crud(
        "organisations",
        "organization",
        views.OrganizationListView,
        views.OrganizationDetailView,
        views.OrganizationEditView,
        views.OrganizationDeleteView,
    ),
    *crud(
        "locations",
        "location",
        views.LocationListView,
        views.LocationDetailView,
        views.LocationEditView,
        views.LocationDeleteView,
    ),
    *crud(
        "teams", "team", views.TeamListView, views.TeamDetailView, views.TeamEditView, views.TeamDeleteView
    ),
    *crud(
        "skills",
        "skill",
        views.SkillListView,
        views.SkillDetailView,
        views.SkillEditView,
        views.SkillDeleteView,
    ),
    path("teams/<int:pk>/members/add/", views.team_member_add, name="team_member_add"),
    path("teams/<int:pk>/members/<int:user_id>/remove/", views.team_member_remove, name="team_member_remove"),
    path("agent-skills/add/", views.AgentSkillEditView.as_view(), name="agentskill_add"),
    path("agent-skills/<int:pk>/edit/", views.AgentSkillEditView.as_view(), name="agentskill_edit"),
    path("agent-skills/<int:pk>/delete/", views.AgentSkillDeleteView.as_view(), name="agentskill_delete"),
    path("shifts/add/", views.ShiftEditView.as_view(), name="shift_add"),
    path("shifts/<int:pk>/edit/", views.ShiftEditView.as_view(), name="shift_edit"),
    path("shifts/<int:pk>/delete/", views.ShiftDeleteView.as_view(), name="shift_delete"),
    path("out-of-office/", views.AbsenceListView.as_view(), name="absence_list"),
    path("out-of-office/add/", views.AbsenceEditView.as_view(), name="absence_add"),
    path("out-of-office/<int:pk>/edit/", views.AbsenceEditView.as_view(), name="absence_edit"),
    path("out-of-office/<int:pk>/delete/", views.AbsenceDeleteView.as_view(), name="absence_delete"),
]
