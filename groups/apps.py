from django.apps import AppConfig


class GroupsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "groups"

    def ready(self) -> None:
        from groups import account_data

        account_data.register()
