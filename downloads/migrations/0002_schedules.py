"""Periodic tasks live in the database (django-q2 schedules), created here so a fresh install has them."""

from django.db import migrations


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="modelhub-housekeeping",
        defaults={"func": "downloads.tasks.housekeeping", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )
    Schedule.objects.update_or_create(
        name="modelhub-reverify",
        defaults={"func": "downloads.tasks.reverify_installed", "schedule_type": "I", "minutes": 15, "repeats": -1},
    )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=["modelhub-housekeeping", "modelhub-reverify"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("downloads", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(create_schedules, remove_schedules)]
