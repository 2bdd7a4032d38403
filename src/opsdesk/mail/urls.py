from django.urls import path

from opsdesk.mail.views import mailboxes, messages

app_name = "mail"

urlpatterns = [
    path("mailboxes/", mailboxes.MailboxListView.as_view(), name="mailbox_list"),
    path("mailboxes/add/", mailboxes.MailboxEditView.as_view(), name="mailbox_create"),
    path("mailboxes/<int:pk>/", mailboxes.MailboxDetailView.as_view(), name="mailbox_detail"),
    path("mailboxes/<int:pk>/edit/", mailboxes.MailboxEditView.as_view(), name="mailbox_edit"),
    path("mailboxes/<int:pk>/delete/", mailboxes.MailboxDeleteView.as_view(), name="mailbox_delete"),
    path("mailboxes/<int:pk>/test/", mailboxes.MailboxTestView.as_view(), name="mailbox_test"),
    path("messages/", messages.MessageListView.as_view(), name="message_list"),
    path("messages/<int:pk>/", messages.MessageDetailView.as_view(), name="message_detail"),
    path("messages/<int:pk>/retry/", messages.MessageRetryView.as_view(), name="message_retry"),
    path("messages/<int:pk>/raw/", messages.MessageRawView.as_view(), name="message_raw"),
]
