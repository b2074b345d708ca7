"""ModelVariant (what to have), DownloadJob (one attempt at having it) and JobEvent (its log), with
their vocabularies (states, kinds, origins, error codes, event kinds) and the queries the rest of
the app asks of them.

State transitions live in `downloads.jobs.lifecycle`; the database enforces that a variant has at
most one active job.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from engine.errors import ErrorCode
from engine.events import EventKind


class RepoType(models.TextChoices):
    MODEL = "model", "model"
    DATASET = "dataset", "dataset"


class VariantStatus(models.TextChoices):
    NOT_DOWNLOADED = "not_downloaded", "not downloaded"
    # A download stopped with bytes kept on disk (cancelled, or paused to resume later): a new
    # download continues from them. Shown with how much is there: "partial (30 %)".
    PARTIAL = "partial", "partial"
    PAUSED = "paused", "paused"
    QUEUED = "queued", "queued"
    DOWNLOADING = "downloading", "downloading"
    INSTALLED = "installed", "installed"
    FAILED = "failed", "failed"
    CORRUPT = "corrupt", "corrupt"


class JobState(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    VERIFYING = "verifying", "verifying"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"
    # Stopped on request, partials kept, to be resumed (the same job queued again): neither active nor
    # finished, so another download of the variant may start meanwhile.
    PAUSED = "paused", "paused"


# Queued or claimed: the variant has work under way (at most one such job per variant).
ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.VERIFYING)
# Claimed by a process, which writes the heartbeat: running or verifying.
WORKING_STATES = (JobState.RUNNING, JobState.VERIFYING)
FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class JobOrigin(models.TextChoices):
    ADMIN = "admin", "admin"
    COMMAND = "command", "management command"
    SCHEDULE = "schedule", "schedule"
    RETRY = "retry", "automatic retry"
    IMPORT = "import", "import"
    HUB = "hub", "Hub endpoint (on demand)"
    API = "api", "JSON API"


class JobQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state__in=ACTIVE_STATES)

    def working(self):
        return self.filter(state__in=WORKING_STATES)

    def finished(self):
        return self.filter(state__in=FINISHED_STATES)


class JobKind(models.TextChoices):
    DOWNLOAD = "download", "download"
    REPAIR = "repair", "repair (failed files only)"
    VERIFY = "verify", "verify"


# The engine's vocabulary, with the labels Django's TextChoices would give ("Gated No Token").
ERROR_CODE_CHOICES = [(code.value, code.name.replace("_", " ").title()) for code in ErrorCode]


def status_label(status: str, partial_bytes: int | None, size_bytes: int | None) -> str:
    """The status as a person reads it; a stopped download says how much of it is on disk."""
    label = VariantStatus(status).label
    if status in (VariantStatus.PARTIAL, VariantStatus.PAUSED) and partial_bytes and size_bytes:
        return f"{label} ({min(99, int(100 * partial_bytes / size_bytes))} %)"
    return label


class ModelVariant(models.Model):
    repo_id = models.CharField(max_length=200, help_text="org/name on the Hub")
    repo_type = models.CharField(max_length=10, choices=RepoType.choices, default=RepoType.MODEL)
    revision = models.CharField(max_length=255, default="main", help_text="branch, tag or commit")
    name = models.CharField(max_length=100, blank=True, help_text="a label such as Q4_K_M")
    include = models.JSONField(default=list, blank=True, help_text="glob patterns; empty: every file")
    exclude = models.JSONField(default=list, blank=True, help_text="glob patterns to leave out")
    kind = models.CharField(
        max_length=50, blank=True, default="auto",
        help_text="auto (inferred from the repo), or text, embedding, translation, speech, voice, vision, "
                  "diffusers, adapter, weights, files: chooses the completeness rule",
    )
    commit = models.CharField(max_length=40, blank=True, help_text="commit the revision resolved to")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    # Bytes a stopped download left on disk (partial, paused): with size_bytes, "partial (30 %)".
    partial_bytes = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=20, choices=VariantStatus.choices, default=VariantStatus.NOT_DOWNLOADED,
    )
    local_path = models.CharField(max_length=2048, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    # Per installed file: size, hashes, blob name and the (size, mtime) fingerprint taken when it was
    # last hashed, so a fast verify can tell "unchanged since hashed" without re-reading.
    manifest = models.JSONField(default=dict, blank=True, editable=False)
    # What the last verification found wrong on disk (drift), shown in the admin; empty when clean.
    problem = models.TextField(blank=True)
    upstream_commit = models.CharField(max_length=40, blank=True, help_text="latest commit seen upstream")
    upstream_checked_at = models.DateTimeField(null=True, blank=True)
    upstream_error = models.CharField(
        max_length=500, blank=True, help_text="why the last update check failed",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["repo_id", "revision", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["repo_id", "repo_type", "revision", "include", "exclude"],
                name="unique_variant_selection",
            ),
        ]
        permissions = [
            ("download_modelvariant", "Can start, cancel and retry downloads"),
            ("delete_files_modelvariant", "Can delete downloaded files from disk"),
        ]

    def __str__(self) -> str:
        label = f" [{self.name}]" if self.name else ""
        rev = "" if self.revision == "main" else f"@{self.revision}"
        return f"{self.repo_id}{rev}{label}"

    @property
    def installed_files(self) -> dict[str, dict]:
        """path -> {size, git_sha1, sha256, fingerprint} of the files last installed; empty when none."""
        return (self.manifest or {}).get("files") or {}

    @property
    def manifest_commit(self) -> str:
        """The commit the installed files belong to ('' when nothing is installed)."""
        return (self.manifest or {}).get("commit") or ""

    @property
    def installed_kind(self) -> dict | None:
        """{chosen, kind, reason}: the completeness rule the installed files passed, and why."""
        kind = (self.manifest or {}).get("kind")
        return kind if isinstance(kind, dict) and kind.get("kind") else None

    @property
    def installed_commit(self) -> str:
        """The commit on disk: the resolved one, else the manifest's (a variant registered by import)."""
        return self.commit or self.manifest_commit

    @property
    def status_label(self) -> str:
        return status_label(self.status, self.partial_bytes, self.size_bytes)

    @property
    def update_available(self) -> bool:
        return bool(self.commit and self.upstream_commit and self.upstream_commit != self.commit)


class DownloadJob(models.Model):
    variant = models.ForeignKey(ModelVariant, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=10, choices=JobKind.choices, default=JobKind.DOWNLOAD)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=20, choices=JobOrigin.choices, default=JobOrigin.ADMIN)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the process running it")
    task_id = models.CharField(max_length=64, blank=True, help_text="django-q2 task id")
    attempt = models.PositiveIntegerField(default=1)
    commit = models.CharField(max_length=40, blank=True)
    force = models.BooleanField(default=False, help_text="re-download files even if present")
    rate_limit = models.BigIntegerField(null=True, blank=True, help_text="per-job cap in bytes/s")
    # Repair jobs fetch only these repo paths.
    only_paths = models.JSONField(default=list, blank=True)

    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    speed_bps = models.FloatField(default=0, help_text="current transfer speed, bytes/s")
    bytes_transferred = models.BigIntegerField(default=0, help_text="bytes received over the network")
    bytes_resumed = models.BigIntegerField(default=0, help_text="bytes kept from earlier partial downloads")

    cancel_requested = models.BooleanField(default=False)
    # With cancel_requested: the run stops the same way, then the job ends paused instead of cancelled.
    pause_requested = models.BooleanField(default=False)
    error_code = models.CharField(max_length=32, choices=ERROR_CODE_CHOICES, blank=True)
    error_message = models.TextField(blank=True)
    guidance = models.TextField(blank=True)
    verification = models.JSONField(default=dict, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["variant"],
                condition=Q(state__in=[s.value for s in ACTIVE_STATES]),
                name="one_active_job_per_variant",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "created_at"], name="job_state_created"),
            # The progress endpoint asks every 1.5 s for jobs finished in the last minutes.
            models.Index(fields=["finished_at"], name="job_finished"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.kind}) for {self.variant_id}: {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_working(self) -> bool:
        return self.state in WORKING_STATES

    @property
    def percent(self) -> float:
        if self.bytes_total <= 0:
            return 100.0 if self.state == JobState.SUCCEEDED else 0.0
        return min(100.0, 100.0 * self.bytes_done / self.bytes_total)

    @property
    def eta_seconds(self) -> float | None:
        if self.state != JobState.RUNNING or self.speed_bps <= 0 or self.bytes_total <= 0:
            return None
        return max(0.0, (self.bytes_total - self.bytes_done) / self.speed_bps)


class JobEvent(models.Model):
    """Append-only log of what happened to a job: queued, started, retries, resumes, verified..."""

    job = models.ForeignKey(DownloadJob, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=[(k.value, k.value) for k in EventKind])
    message = models.TextField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.kind}: {self.message}"


class WorkerBeat(models.Model):
    """Last sign of life of each worker process (housekeeping and job runs write it), so /healthz
    can tell "no worker running" apart from "nothing to do" whatever the broker."""

    worker = models.CharField(max_length=200, primary_key=True)
    last_seen = models.DateTimeField(default=timezone.now)
    last_task = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.worker} @ {self.last_seen:%H:%M:%S}"


class PreviousStorage(models.Model):
    """A folder that was the storage folder until Settings pointed elsewhere. The Storage page keeps
    listing it (what is left, and Clean up and Delete files work there) until nothing is left in it:
    changing the folder must never turn installed models into files nobody can see."""

    path = models.CharField(max_length=1024, unique=True)
    left_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-left_at"]
        verbose_name = "previous storage folder"

    def __str__(self) -> str:
        return self.path
