"""`manage.py cleanup_attachments`: delete uploads that never became part of a message.

A file uploaded by the page's script waits for the message that names it; one whose
message was never sent (the tab closed, the send refused) is deleted once it is older
than ATTACHMENT_UNATTACHED_TTL (24 h). Run it hourly (cron or a systemd timer).
"""

from django.core.management.base import BaseCommand

from messaging.attachments import cleanup_unattached


class Command(BaseCommand):
    help = "Delete uploaded files never sent with a message within ATTACHMENT_UNATTACHED_TTL (24 h)."

    def handle(self, *args, **options) -> None:
        count = cleanup_unattached()
        self.stdout.write(f"Deleted {count} unsent upload{'s' if count != 1 else ''}.")
