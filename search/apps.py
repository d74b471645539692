from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "search"

    def ready(self) -> None:
        from django.apps import apps

        from search import backends

        # SQLite rebuilds a table to alter it, dropping its triggers: after every migrate,
        # put the full-text index's triggers back (and refill the index) if one went missing.
        # (post_migrate is sent for apps with models: this one has none, messaging has the table.)
        post_migrate.connect(backends.ensure_index_after_migrate, sender=apps.get_app_config("messaging"))
