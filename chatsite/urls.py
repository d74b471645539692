"""HTTP routes: the public contract for pages and endpoints (see docs/protocol.md)."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("", include("messaging.urls")),
    path("", include("groups.urls")),
    path("", include("search.urls")),
    path("", include("people.urls")),
    path("admin/", admin.site.urls),
    path("healthz", include("chatsite.health")),
]

# The database being down answers 503, anything else Django's 500 page (chatsite/outage.py).
handler500 = "chatsite.outage.server_error"
