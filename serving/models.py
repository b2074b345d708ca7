"""ApiToken (who may pull through /hub) and PullLog (what was pulled, by whom, how many bytes).

A token is stored as its sha256 only, with a short prefix to tell tokens apart in lists; the plain
token is shown once, when it is created (serving.tokens).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

PULL_PERMISSION = "serving.pull_models"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="what the token is for, e.g. 'gpu-node-3'")
    prefix = models.CharField(max_length=16, editable=False, help_text="the token's first characters")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        permissions = [("pull_models", "Can pull models through the Hub endpoint")]

    def __str__(self) -> str:
        label = f" ({self.name})" if self.name else ""
        return f"{self.prefix}… of {self.user}{label}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PullLog(models.Model):
    """One file request answered by /hub: served (200/206), refused (401/403) or queued on demand (503).

    `bytes_served` is what the response carried (its Content-Length): the server hands the file to the
    kernel (sendfile), so a client that hangs up early is still counted for its whole range.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="pulls")
    variant = models.ForeignKey("downloads.ModelVariant", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    repo_type = models.CharField(max_length=10)
    repo_id = models.CharField(max_length=200)
    revision = models.CharField(max_length=255, blank=True)
    commit = models.CharField(max_length=40, blank=True)
    path = models.CharField(max_length=1024, blank=True)
    status = models.PositiveSmallIntegerField()
    range_start = models.BigIntegerField(null=True, blank=True, help_text="first byte of a Range request")
    bytes_served = models.BigIntegerField(default=0)
    client = models.CharField(max_length=100, blank=True, help_text="the client's address")

    class Meta:
        verbose_name = "pull"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["variant", "at"], name="pull_variant_at"),
                   models.Index(fields=["user", "at"], name="pull_user_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.repo_id}/{self.path} → {self.status}"
