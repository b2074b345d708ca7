"""The monitor: what the thread that runs a job does while file threads move bytes.

File threads never touch the database. This thread writes progress and the heartbeat (at most about
once a progress interval), flushes the events they report, polls `cancel_requested`, shares the
global bandwidth cap among running jobs, and keeps beating while a blocking call (the Hub's metadata,
a verify) runs in a helper thread.
"""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.utils import timezone

from downloads.models import DownloadJob, JobEvent, JobState
from engine.redaction import redact
from engine.transfer.progress import Progress, RateLimiter

CANCEL_GRACE = 2.0  # seconds a helper thread gets to notice a cancel before the monitor gives up
T = TypeVar("T")
Reporter = Callable[[DownloadJob], None]


def storable(text: str) -> str:
    """Redacted text the database can hold: a lone surrogate (a non-UTF-8 file name or header from a
    server) would make the final write fail and leave the job 'running' until it is reaped."""
    return redact(text).encode("utf-8", "backslashreplace").decode("utf-8")


class Monitor:
    def __init__(self, job: DownloadJob, *, progress: Progress, cancel: threading.Event,
                 global_limiter: RateLimiter, bandwidth_limit: int | None, reporter: Reporter | None = None):
        self.job = job
        self.progress = progress
        self.cancel = cancel
        self.global_limiter = global_limiter
        self.bandwidth_limit = bandwidth_limit
        self.reporter = reporter
        self._events: list[tuple[str, str]] = []
        self._events_lock = threading.Lock()
        self._last_tick = 0.0
        self._last_transferred = 0
        self._speed = 0.0

    def event(self, kind: str, message: str) -> None:
        """Thread-safe: file threads call this; the monitor thread writes the rows."""
        with self._events_lock:
            self._events.append((kind, storable(message)))

    def flush_events(self) -> None:
        with self._events_lock:
            events, self._events = self._events, []
        if events:
            JobEvent.objects.bulk_create([JobEvent(job_id=self.job.pk, kind=k, message=m) for k, m in events])

    def tick(self, *, force: bool = False, final: bool = False) -> None:
        """Write progress and the heartbeat; notice a cancel or a lost claim (both stop the file threads)."""
        now = time.monotonic()
        if not force and now - self._last_tick < settings.MODELHUB_PROGRESS_INTERVAL:
            return
        dt = now - self._last_tick if self._last_tick else 0
        self._last_tick = now
        done, transferred, files_done = self.progress.snapshot()
        if dt > 0:
            instant = max(0.0, (transferred - self._last_transferred) / dt)
            self._speed = instant if not self._speed else 0.5 * self._speed + 0.5 * instant
        self._last_transferred = transferred
        with self.progress.lock:
            resumed = self.progress.resumed
        fields = dict(bytes_done=done, files_done=files_done, speed_bps=0 if final else self._speed,
                      bytes_transferred=transferred, bytes_resumed=resumed, heartbeat_at=timezone.now())
        owned = DownloadJob.objects.working().filter(pk=self.job.pk).update(**fields)
        for key, value in fields.items():
            setattr(self.job, key, value)
        self.flush_events()
        if final:
            return
        if not owned:
            self.cancel.set()  # reaped as lost, or cancelled while queued-then-claimed: stop writing
            return
        if DownloadJob.objects.filter(pk=self.job.pk).values_list("cancel_requested", flat=True).first():
            self.cancel.set()
        self._share_bandwidth()
        if self.reporter:
            self.reporter(self.job)

    def beating(self, call: Callable[[], T]) -> T:
        """Run a blocking call in a helper thread (it must not touch the database) while this thread
        keeps writing the heartbeat and watching for a cancel. On Ctrl-C or an error here the call is
        asked to stop (`cancel`) and given a moment to do so."""
        done = threading.Event()
        result: dict = {}

        def work():
            try:
                result["value"] = call()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the monitor thread
                result["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name=f"beating{self.job.pk}", daemon=True).start()
        try:
            while not done.wait(0.2):
                self.tick()
        except BaseException:
            self.cancel.set()
            done.wait(CANCEL_GRACE)  # hashing stops within a chunk; a Hub call may not look
            raise
        if "error" in result:
            raise result["error"]
        return result["value"]

    def _share_bandwidth(self) -> None:
        """The global cap is split evenly among the jobs running now (re-read every tick)."""
        if not self.bandwidth_limit:
            self.global_limiter.set_rate(None)
            return
        running = DownloadJob.objects.filter(state=JobState.RUNNING).count() or 1
        self.global_limiter.set_rate(self.bandwidth_limit / running)
