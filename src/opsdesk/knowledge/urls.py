from django.urls import path

from opsdesk.knowledge.views import articles, desk, portal

app_name = "knowledge"

urlpatterns = [
    path("", articles.article_list, name="list"),
    path("add/", articles.article_edit, name="add"),
    path("review/", articles.needs_review, name="needs_review"),
    path("gaps/", desk.gaps, name="gaps"),
    path("known-errors/", desk.known_errors, name="known_errors"),
    path("known-errors/<int:pk>/publish/", desk.publish_known_error, name="publish_known_error"),
    path("suggest/", portal.suggest, name="suggest"),
    path("solved/", portal.solved_thanks, name="solved_thanks"),
    path("files/<int:pk>/", articles.article_file, name="file"),
    path("files/<int:pk>/delete/", articles.article_detach, name="file_delete"),
    path("tickets/<str:number>/link/", desk.ticket_link, name="ticket_link"),
    path("links/<int:pk>/delete/", desk.ticket_unlink, name="ticket_unlink"),
    path("<int:pk>/", articles.article_detail, name="detail"),
    path("<int:pk>/edit/", articles.article_edit, name="edit"),
    path("<int:pk>/transition/", articles.article_transition, name="transition"),
    path("<int:pk>/feedback/", articles.article_feedback, name="feedback"),
    path("<int:pk>/attach/", articles.article_attach, name="attach"),
    path("<int:pk>/versions/", articles.article_versions, name="versions"),
    path("<int:pk>/diff/", articles.article_diff, name="diff"),
    path("<int:pk>/versions/<int:number>/restore/", articles.article_restore, name="restore"),
    path("<int:pk>/solved/", portal.solved, name="solved"),
]
