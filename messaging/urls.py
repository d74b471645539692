from django.urls import path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("chats/", views.conversation_list, name="list"),
]
