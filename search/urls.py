"""Routes of search: the public contract (docs/protocol.md, "Search")."""

from django.urls import path

from search import views

app_name = "search"
urlpatterns = [
    path("search/", views.search_page, name="page"),
    path("search/messages/", views.search_messages, name="messages"),
]
