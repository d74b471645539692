from django.apps import AppConfig


class MessagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "messaging"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from messaging import account_data, attachments, group_parts
        from messaging.models import Attachment

        account_data.register()
        group_parts.register()
        # Stored files go with their rows on every path, cascades included (messaging/attachments.py).
        post_delete.connect(attachments.delete_stored_after_commit, sender=Attachment, dispatch_uid="attachment_bytes")
