"""The people directory, its autocomplete twin and profiles: the public contract in docs/protocol.md ("People")."""

from django.urls import path

import accounts.converters  # noqa: F401 (registers the `<username:…>` route converter)
from people import views

app_name = "people"
urlpatterns = [
    path("people/", views.directory, name="directory"),
    # Before the profile route: "search" is not anyone's profile.
    path("people/search/", views.search, name="search"),
    path("people/<username:username>/", views.profile, name="profile"),
    path("people/<username:username>/avatar/", views.avatar, name="avatar"),
]
