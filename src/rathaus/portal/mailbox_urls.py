"""/postfach/: the citizen's mailbox (Postfach). Messages are addressed by random public ids."""

from django.urls import path

from rathaus.portal import mailbox_views as views

app_name = "mailbox"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("archiv/", views.archived, name="archive"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/antworten/", views.reply, name="reply"),
    path("<uuid:public_id>/archivieren/", views.archive, name="archive_message"),
    path("<uuid:public_id>/zurueck/", views.unarchive, name="unarchive_message"),
    path(
        "<uuid:public_id>/dateien/<uuid:attachment_id>/",
        views.download,
        name="download",
    ),
]
