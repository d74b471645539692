"""Group pages and actions: the public contract in docs/protocol.md ("Groups")."""

from django.urls import path

import accounts.converters  # noqa: F401 (registers the `<username:…>` route converter)
import chatsite.numbers  # noqa: F401 (registers the `<id:…>` route converter)
from groups import invite_views, views

app_name = "groups"
urlpatterns = [
    path("groups/", views.group_browse, name="browse"),
    path("groups/new/", views.group_new, name="new"),
    path("groups/<id:group_id>/", views.group_detail, name="detail"),
    path("groups/<id:group_id>/edit/", views.group_edit, name="edit"),
    path("groups/<id:group_id>/members/", views.member_add, name="member_add"),
    path("groups/<id:group_id>/members/<username:username>/remove/", views.member_remove, name="member_remove"),
    path("groups/<id:group_id>/members/<username:username>/role/", views.member_role, name="member_role"),
    path("groups/<id:group_id>/transfer/", views.group_transfer, name="transfer"),
    path("groups/<id:group_id>/delete/", views.group_delete, name="delete"),
    path("groups/<id:group_id>/leave/", views.group_leave, name="leave"),
    path("groups/<id:group_id>/join/", views.group_join, name="join"),
    path("groups/<id:group_id>/invites/", invite_views.invites, name="invites"),
    path("groups/<id:group_id>/invites/<id:invite_id>/revoke/", invite_views.invite_revoke, name="invite_revoke"),
    path("invite/<str:token>/", invite_views.invite, name="invite"),
]
