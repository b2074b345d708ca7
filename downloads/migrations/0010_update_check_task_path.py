"""The update-check schedule calls downloads.tasks.check_updates (moved from downloads.tasks_storage)."""

from django.db import migrations

OLD, NEW = "downloads.tasks_storage.check_updates", "downloads.tasks.check_updates"


def forwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=OLD).update(func=NEW)


def backwards(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=NEW).update(func=OLD)


class Migration(migrations.Migration):
    dependencies = [("downloads", "0009_vocabularies")]
    operations = [migrations.RunPython(forwards, backwards)]
