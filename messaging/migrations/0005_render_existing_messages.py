"""Render the stored bodies of existing messages into `html` (messaging.rendering), in batches."""

from django.db import migrations

BATCH = 500


def render_existing(apps, schema_editor):
    from messaging.rendering import render

    Message = apps.get_model("messaging", "Message")
    last_pk = 0
    while True:
        batch = list(
            Message.objects.filter(pk__gt=last_pk, deleted=False).order_by("pk").only("pk", "body", "html")[:BATCH]
        )
        if not batch:
            return
        for message in batch:
            # Mentions did not exist when these were written: an "@name" in them stays text.
            message.html = render(message.body)
        Message.objects.bulk_update(batch, ["html"])
        last_pk = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("messaging", "0004_message_html")]

    operations = [migrations.RunPython(render_existing, migrations.RunPython.noop, elidable=True)]
