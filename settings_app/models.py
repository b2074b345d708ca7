"""The Setting singleton: values saved here override the environment defaults."""

from pathlib import Path

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from engine import limits
from settings_app import token_crypto
from settings_app.endpoints import endpoint_origin, same_origin
from settings_app.validators import absolute_storage_path


class Setting(models.Model):
    hub_endpoint = models.URLField(
        blank=True,
        help_text="Hub or Hub-compatible mirror, e.g. https://huggingface.co. Blank: MODELHUB_HUB_ENDPOINT.",
    )
    hf_token_encrypted = models.TextField(blank=True, editable=False)
    hf_token_last4 = models.CharField(max_length=4, blank=True, editable=False)
    # The origin the saved token was entered (or confirmed) for: the token is sent nowhere else, so
    # changing the endpoint cannot be used to read it (see settings_app.endpoints).
    hf_token_endpoint = models.CharField(max_length=300, blank=True, editable=False)
    storage_dir = models.CharField(
        max_length=1024, blank=True,
        help_text="Where models land (HF cache layout). Blank: MODELHUB_STORAGE_DIR.",
    )
    max_concurrent_downloads = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Jobs running at once across all workers. Blank: MODELHUB_MAX_CONCURRENT_DOWNLOADS.",
    )
    min_free_space = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="Bytes that must stay free on the storage volume. Blank: MODELHUB_MIN_FREE_SPACE.",
    )
    max_parallel_files = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(
            limits.MAX_PARALLEL_FILES, f"At most {limits.MAX_PARALLEL_FILES} files per job at once.")],
        help_text=f"Files of one job downloaded at once (1 to {limits.MAX_PARALLEL_FILES}).",
    )
    segments_per_file = models.PositiveSmallIntegerField(
        default=limits.AUTO_SEGMENTS,
        validators=[MinValueValidator(0), MaxValueValidator(
            limits.MAX_SEGMENTS_PER_FILE, f"At most {limits.MAX_SEGMENTS_PER_FILE} connections per file.")],
        help_text=f"Connections for one large file (parallel ranged segments). 0 = automatic: as many as "
                  f"keep adding throughput, up to {limits.MAX_AUTO_SEGMENTS_PER_FILE} per file and "
                  f"{limits.MAX_CONNECTIONS_PER_JOB} per job (for CDNs that cap each connection); 1 = one "
                  f"stream per file; N = exactly N (files at once x N at most "
                  f"{limits.MAX_CONNECTIONS_PER_JOB}).",
    )
    segment_min_size = models.BigIntegerField(
        default=64 * 1000**2, validators=[MinValueValidator(1)],
        help_text="Files at least this large are split into segments (unless connections is 1).",
    )
    bandwidth_limit = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="Global cap in bytes/s shared by all running jobs. Blank: unlimited.",
    )
    reverify_interval_hours = models.PositiveIntegerField(
        default=24, help_text="Installed variants are re-checked this often (0: never)."
    )
    completeness_rules = models.JSONField(
        default=dict, blank=True,
        help_text='Per-kind overrides of the completeness rules, e.g. {"voice": [["*.onnx"]]}; see README.',
    )
    # The Hub endpoint at /hub (serving app): both off by default, so installing ModelHub exposes nothing.
    hub_allow_anonymous = models.BooleanField(
        default=False, verbose_name="Allow anonymous pulls",
        help_text="Anyone who can reach /hub may pull installed models without an API token.",
    )
    hub_on_demand = models.BooleanField(
        default=False, verbose_name="Download on demand",
        help_text="A pull of a repo or revision that is not installed, by a user allowed to start downloads, "
                  "queues its download; the client is told to try again later.",
    )
    # Webhooks (webhooks app): signed POSTs when a job ends or a variant's status changes. The secret is
    # write-only, encrypted like the HF token (see webhooks.config).
    webhook_urls = models.TextField(blank=True, verbose_name="Webhook URLs",
                                    help_text="One http(s) URL per line.")
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    webhook_secret_last4 = models.CharField(max_length=4, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Settings"
        verbose_name_plural = "Settings"
        # Editing Settings is not enough to send the saved token to a new endpoint: that needs this
        # permission (superusers have it), or entering the token again.
        permissions = [("confirm_token_endpoint", "Can send the saved HF token to a new Hub endpoint")]

    def __str__(self) -> str:
        return "Settings"

    def save(self, *args, **kwargs):
        self.pk = 1  # singleton
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "Setting":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    # --- effective values (row first, then environment defaults)
    @property
    def effective_hub_endpoint(self) -> str:
        return (self.hub_endpoint or settings.MODELHUB_HUB_ENDPOINT).rstrip("/")

    @property
    def effective_storage_dir(self) -> Path:
        # A relative MODELHUB_STORAGE_DIR is taken from the project folder, as on the Settings page, not
        # from whichever folder a worker or command was started in.
        return absolute_storage_path(str(self.storage_dir or settings.MODELHUB_STORAGE_DIR))

    @property
    def effective_max_concurrent_downloads(self) -> int:
        return self.max_concurrent_downloads or settings.MODELHUB_MAX_CONCURRENT_DOWNLOADS

    @property
    def effective_min_free_space(self) -> int:
        if self.min_free_space is not None:
            return self.min_free_space
        return settings.MODELHUB_MIN_FREE_SPACE  # bytes, parsed (and checked) at start-up

    # --- token (write-only: set/clear here, read through settings_app.tokens)
    def set_hf_token(self, token: str) -> None:
        """Save a token for the endpoint in effect now: set a new endpoint first when changing both."""
        token = token.strip()
        self.hf_token_encrypted = token_crypto.encrypt(token)
        self.hf_token_last4 = token[-4:]
        self.hf_token_endpoint = endpoint_origin(self.effective_hub_endpoint)

    def clear_hf_token(self) -> None:
        self.hf_token_encrypted = ""
        self.hf_token_last4 = ""
        self.hf_token_endpoint = ""

    def confirm_token_endpoint(self) -> bool:
        """Use the saved token with the endpoint in effect now. False when there is no saved token."""
        if not self.hf_token_encrypted:
            return False
        self.hf_token_endpoint = endpoint_origin(self.effective_hub_endpoint)
        return True

    @property
    def token_endpoint_confirmed(self) -> bool:
        """The saved token may go to the endpoint in effect (also after MODELHUB_HUB_ENDPOINT changed)."""
        return same_origin(self.hf_token_endpoint, self.effective_hub_endpoint)

    def saved_hf_token(self) -> str | None:
        if not self.hf_token_encrypted:
            return None
        return token_crypto.decrypt(self.hf_token_encrypted)


