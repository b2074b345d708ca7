"""Where a queued job stands: why it waits, its place in the line and how much it will download.

Read-only. One snapshot (three small queries) explains every queued job on a page, so a list and the
progress endpoint ask the same number of queries whatever the number of rows. The slot count follows
services.dispatch: jobs claimed by a process, plus queued jobs already handed on (to the broker, or
kept by the `download --wait` that runs them) hold the max_concurrent_downloads slots.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone

from downloads.models import DownloadJob, JobOrigin, JobState, WorkerBeat
from modelhub.sizes import format_size
from settings_app.models import Setting

# As /healthz: housekeeping runs every minute on every cluster, so three silent minutes mean none runs.
WORKER_SILENCE = timedelta(minutes=3)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def runs_in_command(job: DownloadJob) -> bool:
    """Queued by a command that runs it itself (`download --wait`): reserved, never sent to a broker."""
    return bool(job.dispatched_at and not job.task_id and job.origin in (JobOrigin.COMMAND, JobOrigin.RETRY))


@dataclass
class QueueSnapshot:
    working: int                          # jobs claimed by a process
    reserved: list[tuple[datetime, int]]  # queued jobs already handed on: (created_at, id)
    slots: int
    worker_seen: datetime | None
    places: dict[int, int]                # queued job id -> its place in line, from 1
    now: datetime

    @classmethod
    def take(cls) -> "QueueSnapshot":
        active = list(DownloadJob.objects.active().order_by("created_at", "id")
                      .values_list("pk", "created_at", "dispatched_at", "state"))
        queued = [row for row in active if row[3] == JobState.QUEUED]
        return cls(
            working=len(active) - len(queued),
            reserved=[(created, pk) for pk, created, dispatched, _ in queued if dispatched is not None],
            slots=Setting.load().effective_max_concurrent_downloads,
            worker_seen=WorkerBeat.objects.aggregate(last=Max("last_seen"))["last"],
            places={pk: place for place, (pk, *_) in enumerate(queued, 1)},
            now=timezone.now(),
        )

    def busy_before(self, job: DownloadJob) -> int:
        """Slots taken ahead of the job: every claimed job, and the handed-on queued jobs older than it
        (all of them when the job itself waits to be handed on, as dispatch counts)."""
        if job.dispatched_at is None:
            return self.working + len(self.reserved)
        return self.working + sum(1 for key in self.reserved if key < (job.created_at, job.pk))

    def slots_text(self, busy: int) -> str:
        return f"{min(busy, self.slots)} of {self.slots} download slots in use"

    def reason(self, job: DownloadJob) -> str:
        busy = self.busy_before(job)
        if busy >= self.slots:
            return self.slots_text(busy)
        if runs_in_command(job):
            return "starting in the command that queued it"
        if self.worker_seen is None:
            return "waiting for a worker: none has run yet (start manage.py qcluster)"
        if self.worker_seen < self.now - WORKER_SILENCE:
            minutes = int((self.now - self.worker_seen).total_seconds() // 60)
            return f"waiting for a worker: none seen for {minutes} min (is manage.py qcluster running?)"
        return "waiting for a worker to pick it up"

    def explain(self, job: DownloadJob) -> dict | None:
        """{position, reason, expected_bytes, text} of a queued job; None for any other."""
        if job.state != JobState.QUEUED:
            return None
        place = self.places.get(job.pk)
        size = job.bytes_total or job.variant.size_bytes or None
        reason = self.reason(job)
        parts = [f"{ordinal(place)} in line" if place else "", reason,
                 f"{format_size(size)} to download" if size else "size known once it starts"]
        return {"position": place, "reason": reason, "expected_bytes": size,
                "text": " · ".join(p for p in parts if p)}

    def slot_free(self, job: DownloadJob) -> bool:
        return self.busy_before(job) < self.slots
