from django.urls import path

from accounts import email_views, session_views, two_factor_views, views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("login/two-factor/", two_factor_views.login_two_factor, name="login_two_factor"),
    path("logout/", views.logout_view, name="logout"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/avatar/", views.avatar_view, name="avatar"),
    path("settings/export/", views.export_view, name="export"),
    path("settings/delete/", views.delete_view, name="delete"),
    path("settings/two-factor/", two_factor_views.two_factor_settings, name="two_factor"),
    path("settings/sessions/logout-others/", session_views.sessions_logout_others, name="sessions_logout_others"),
    path("settings/sessions/<str:session_id>/logout/", session_views.session_logout, name="session_logout"),
    path("verify-email/", email_views.verify_email, name="verify_email"),
    path("verify-email/<str:token>/", email_views.verify_email_confirm, name="verify_email_confirm"),
    path("email-change/<str:token>/", email_views.email_change_confirm, name="email_change_confirm"),
    path("unsubscribe/<str:token>/", email_views.unsubscribe, name="unsubscribe"),
    path("password-reset/", email_views.password_reset, name="password_reset"),
    path(
        "password-reset/<str:uidb64>/<str:token>/",
        email_views.password_reset_confirm,
        name="password_reset_confirm",
    ),
]
