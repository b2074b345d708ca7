"""The daily "update available" check runs as a django-q2 schedule, created here."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="modelhub-check-updates",
        defaults={"func": "downloads.tasks_storage.check_updates", "schedule_type": "H", "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="modelhub-check-updates").delete()


class Migration(migrations.Migration):
    dependencies = [("downloads", "0004_upstream_error")]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
