from django.urls import path

from opsdesk.chat.views import desk, widget

app_name = "chat"

urlpatterns = [
    # --- requesters: the widget (portal panel, or a frame on another site) ------------------
    path("widget/", widget.widget, name="widget"),
    path("widget/start/", widget.start, name="start"),
    path("widget/leave-ticket/", widget.leave_ticket, name="leave_ticket"),
    path("widget/<int:pk>/ticket/", widget.requester_convert, name="requester_convert"),
    # --- agents ---------------------------------------------------------------------------------
    path("queue/", desk.queue, name="queue"),
    path("queue/list/", desk.queue_list, name="queue_list"),
    path("<int:pk>/", desk.session, name="session"),
    path("<int:pk>/accept/", desk.accept, name="accept"),
    path("<int:pk>/end/", desk.end, name="end"),
    path("<int:pk>/convert/", desk.convert, name="convert"),
    path("<int:pk>/add-to-ticket/", desk.add_to_ticket, name="add_to_ticket"),
]
