"""Webhooks: signed JSON POSTs to the URLs in Settings when a job ends or a variant's status changes."""
from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from webhooks import receivers  # noqa: F401 - connects the signal receivers
