"""Routes of conversations and messages: the public contract (docs/protocol.md)."""

from django.urls import path

import accounts.converters  # noqa: F401 (registers the `<username:…>` route converter)
import chatsite.numbers  # noqa: F401 (registers the `<id:…>` route converter)
from messaging import file_views, views

app_name = "messaging"
urlpatterns = [
    path("chats/", views.conversation_list, name="list"),
    path("mentions/", views.mention_list, name="mentions"),
    path("chats/<id:conversation_id>/", views.conversation_detail, name="conversation"),
    path("chats/<id:conversation_id>/messages/", views.message_history, name="history"),
    path("chats/read/", views.read_all, name="read_all"),
    path("chats/<id:conversation_id>/read/", views.conversation_read, name="read"),
    path("chats/<id:conversation_id>/mute/", views.conversation_mute, name="mute"),
    path("chats/<id:conversation_id>/star/", views.conversation_star, name="star"),
    path("chats/<id:conversation_id>/rename/", views.topic_rename, name="topic_rename"),
    path("chats/<id:conversation_id>/messages/<id:seq>/edit/", views.message_edit, name="message_edit"),
    path("chats/<id:conversation_id>/messages/<id:seq>/delete/", views.message_delete, name="message_delete"),
    path("chats/<id:conversation_id>/messages/<id:seq>/reactions/", views.reaction_toggle, name="reaction_toggle"),
    path("chats/<id:conversation_id>/attachments/", file_views.attachment_upload, name="attachment_upload"),
    path("files/<str:attachment_id>/", file_views.attachment_download, name="attachment"),
    path("files/<str:attachment_id>/thumbnail/", file_views.attachment_thumbnail, name="attachment_thumbnail"),
    path("files/<str:attachment_id>/discard/", file_views.attachment_discard, name="attachment_discard"),
    path("groups/<id:group_id>/conversations/new/", views.topic_create, name="topic_create"),
    path("dm/", views.direct_start, name="direct_start"),
    path("dm/<username:username>/", views.direct_open, name="direct_open"),
]
