from django.urls import path

from opsdesk.web.views import auth, home, records, search, tokens

urlpatterns = [
    path("", home.home, name="home"),
    path("portal/", home.portal, name="portal"),
    path("search/", search.search_results, name="search"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("account/password/", auth.password_change, name="password_change"),
    path("account/tokens/", tokens.token_list, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke_view, name="token_revoke"),
    path("audit/", records.AuditLogView.as_view(), name="audit_log"),
    path("security-log/", records.SecurityLogView.as_view(), name="security_log"),
    path("jobs/", records.JobListView.as_view(), name="job_list"),
    path("jobs/<int:pk>/", records.JobDetailView.as_view(), name="job_detail"),
]
