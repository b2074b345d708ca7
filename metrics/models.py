"""No table: a model only to carry the permission that lets an API token read /metrics."""

from django.db import models

VIEW_PERMISSION = "metrics.view_metrics"
PERMISSION_NAME = "Can read /metrics (Prometheus) with an API token"


class Metrics(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_metrics", PERMISSION_NAME)]

    def __str__(self) -> str:
        return "metrics"
