from django.urls import path

from opsdesk.tickets.views import portal, problems, queues, settings, ticket, workload

app_name = "tickets"

urlpatterns = [
    path("", queues.index, name="index"),
    # --- the agent workspace ---------------------------------------------------------------
    path("queue/<slug:slug>/", queues.queue, name="queue"),
    path("views/<int:pk>/", queues.saved_view, name="saved_view"),
    path("views/save/", queues.saved_view_create, name="saved_view_create"),
    path("views/<int:pk>/delete/", queues.saved_view_delete, name="saved_view_delete"),
    path("bulk/", queues.bulk, name="bulk"),
    path("team-agents/", ticket.team_agents, name="team_agents"),
    path("priority/", ticket.priority_preview, name="priority_preview"),
    path("files/<int:pk>/", ticket.download, name="download"),
    # --- requesters ---------------------------------------------------------------------------
    path("my/", portal.requester_list, name="requester_list"),
    path("new/", portal.create, name="create"),
    path("rate/<str:token>/<int:rating>/", portal.rate_by_link, name="rate_link"),
    # --- problems and canned responses --------------------------------------------------------
    path("problems/", problems.ProblemListView.as_view(), name="problem_list"),
    path("problems/add/", problems.ProblemEditView.as_view(), name="problem_add"),
    path("problems/<int:pk>/", problems.ProblemDetailView.as_view(), name="problem_detail"),
    path("problems/<int:pk>/edit/", problems.ProblemEditView.as_view(), name="problem_edit"),
    path("responses/", problems.CannedResponseListView.as_view(), name="cannedresponse_list"),
    path("responses/add/", problems.CannedResponseEditView.as_view(), name="cannedresponse_add"),
    path("responses/<int:pk>/edit/", problems.CannedResponseEditView.as_view(), name="cannedresponse_edit"),
    path(
        "responses/<int:pk>/delete/",
        problems.CannedResponseDeleteView.as_view(),
        name="cannedresponse_delete",
    ),
    # --- overviews and the desk's settings ----------------------------------------------------
    path("workload/", workload.workload, name="workload"),
    path("escalations/", workload.escalations, name="escalations"),
    path("settings/", settings.index, name="settings"),
    path("settings/rules/", settings.routing_rules, name="settings_routing"),
    path("settings/rules/add/", settings.routing_rule_edit, name="settings_routing_add"),
    path("settings/rules/<int:pk>/", settings.routing_rule_edit, name="settings_routing_edit"),
    path("settings/rules/<int:pk>/move/", settings.routing_rule_move, name="settings_routing_move"),
    path(
        "settings/rules/<int:pk>/delete/",
        settings.RoutingRuleDeleteView.as_view(),
        name="settings_routing_delete",
    ),
    path("settings/escalation/", settings.escalation_settings, name="settings_escalation"),
    path("settings/escalation/rules/add/", settings.escalation_rule_edit, name="settings_escalation_add"),
    path(
        "settings/escalation/rules/<int:pk>/", settings.escalation_rule_edit, name="settings_escalation_edit"
    ),
    path(
        "settings/escalation/rules/<int:pk>/delete/",
        settings.EscalationRuleDeleteView.as_view(),
        name="settings_escalation_delete",
    ),
    path("settings/escalation/steps/add/", settings.matrix_step_edit, name="settings_step_add"),
    path("settings/escalation/steps/<int:pk>/", settings.matrix_step_edit, name="settings_step_edit"),
    path(
        "settings/escalation/steps/<int:pk>/delete/",
        settings.MatrixStepDeleteView.as_view(),
        name="settings_step_delete",
    ),
    path("settings/teams/", settings.team_settings, name="settings_teams"),
    path("settings/teams/<int:pk>/strategy/", settings.team_strategy, name="settings_team_strategy"),
    path("settings/categories/", settings.CategoryListView.as_view(), name="settings_categories"),
    path("settings/categories/add/", settings.CategoryEditView.as_view(), name="settings_category_add"),
    path("settings/categories/<int:pk>/", settings.CategoryEditView.as_view(), name="settings_category_edit"),
    # --- one ticket -----------------------------------------------------------------------------
    path("<str:number>/", ticket.detail, name="detail"),
    path("<str:number>/version/", ticket.version, name="version"),
    path("<str:number>/reply/", ticket.reply, name="reply"),
    path("<str:number>/transition/", ticket.transition, name="transition"),
    path("<str:number>/assign/", ticket.assign, name="assign"),
    path("<str:number>/update/", ticket.update, name="update"),
    path("<str:number>/worklog/", ticket.worklog, name="worklog"),
    path("<str:number>/attach/", ticket.attach, name="attach"),
    path("<str:number>/merge/", ticket.merge, name="merge"),
    path("<str:number>/parent/", ticket.set_parent, name="set_parent"),
    path("<str:number>/relate/", ticket.relate, name="relate"),
    path("<str:number>/problem/", ticket.link_problem, name="link_problem"),
    path("<str:number>/known-errors/", ticket.known_errors, name="known_errors"),
    path("<str:number>/rate/", ticket.rate, name="rate"),
    path("<str:number>/escalate/", ticket.escalate, name="escalate"),
]
