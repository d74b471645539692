from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import signals  # noqa: F401 (connects the audit log's receivers)
        from accounts.middleware import on_login

        user_logged_in.connect(on_login, dispatch_uid="accounts.session_activity")
