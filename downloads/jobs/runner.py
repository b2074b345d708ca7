"""Runs one claimed job to its end: the same code for a django-q2 worker and `download --wait`.

Threads: file transfers run in a bounded pool and never touch the database; the calling thread is
the monitor (monitor.py): progress, heartbeat, events, cancel. The outcome is recorded through
lifecycle.finish, so a run that lost its job (reaped, cancelled) changes nothing.
"""

import logging
import threading
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from functools import cached_property
from typing import TYPE_CHECKING

from django.conf import settings

from downloads import guidance
from downloads.jobs import lifecycle
from downloads.jobs.liveness import worker_name
from downloads.jobs.monitor import Monitor, Reporter, storable
from downloads.models import DownloadJob, JobKind, JobState
from downloads.storage.overview import variant_home
from engine import selection
from engine.cache.layout import RepoCache
from engine.cache.space import check_space
from engine.errors import ErrorCode, JobCancelled, JobError
from engine.events import EventKind
from engine.hub import HubClient, RemoteFile
from engine.limits import AUTO_SEGMENTS, MAX_CONNECTIONS_PER_JOB, job_parallelism
from engine.retrying import Backoff
from engine.transfer.progress import Progress, RateLimiter
from engine.verify import (
    AUTO,
    FileCheck,
    check_installed_file,
    fingerprint,
    resolve_kind,
    verify_installed,
    verify_streamed,
)
from settings_app.models import Setting
from settings_app.tokens import resolve_token

if TYPE_CHECKING:
    from engine.transfer.fetcher import FileOutcome

log = logging.getLogger(__name__)


def run_job(job_id: int, *, reporter: Reporter | None = None) -> DownloadJob | None:
    """Claim and run a job. Returns the finished job, or None when someone else had it."""
    job = lifecycle.claim(job_id)
    if job is None:
        return None
    JobRun(job, reporter=reporter).run()
    job.refresh_from_db()
    return job


class JobRun:
    def __init__(self, job: DownloadJob, *, reporter: Reporter | None = None):
        self.job = job
        self.variant = job.variant
        self.setting = Setting.load()
        self.cancel = threading.Event()
        self.progress = Progress()
        self.job_limiter = RateLimiter(job.rate_limit)
        self.global_limiter = RateLimiter(None)
        self.monitor = Monitor(job, progress=self.progress, cancel=self.cancel,
                               global_limiter=self.global_limiter,
                               bandwidth_limit=self.setting.bandwidth_limit, reporter=reporter)
        self.event = self.monitor.event  # file threads report through it
        self.token = resolve_token(self.setting)
        self.endpoint = self.setting.effective_hub_endpoint
        storage = self.setting.effective_storage_dir
        # Downloads always land in the storage folder; a verify looks where the files are (a variant
        # registered in place from another cache keeps its files there).
        home = variant_home(self.variant, storage) if job.kind == JobKind.VERIFY else storage
        self.cache = RepoCache(home, self.variant.repo_id, self.variant.repo_type)

    @cached_property
    def hub(self) -> HubClient:
        # Built on first use: a verify job never talks to the Hub, and creating the client imports
        # huggingface_hub (~0.15 s), a noticeable share of a standalone verify's time.
        return HubClient(self.endpoint, self.token.value, token_source=self.token.source,
                         token_problem=self.token.problem, backoff=_backoff())

    # --- entry point
    def run(self) -> None:
        self.event(EventKind.STARTED, f"attempt {self.job.attempt} on {worker_name()}")
        try:
            if self.token.source == "settings-unreadable":
                raise JobError(ErrorCode.TOKEN_INVALID, self.token.problem, token_source="Settings")
            if self.job.kind == JobKind.VERIFY:
                self._verify()
            else:
                self._download()
        except JobCancelled as exc:
            self._finish(JobState.CANCELLED, error=exc)
        except JobError as exc:
            self._finish(JobState.FAILED, error=exc)
        except KeyboardInterrupt:
            self.cancel.set()
            self._finish(JobState.CANCELLED,
                         error=JobCancelled("Interrupted (Ctrl-C); partial files were kept."))
            raise
        except Exception as exc:  # a bug must still end the job visibly, not leave it "running"
            log.exception("job %s crashed", self.job.pk)
            self._finish(JobState.FAILED,
                         error=JobError(ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"))

    # --- download / repair
    def _download(self) -> None:
        variant, job = self.variant, self.job
        revision = variant.commit if job.kind == JobKind.REPAIR and variant.commit else variant.revision
        # The Hub's metadata calls retry with backoff for as long as an outage lasts: keep the heartbeat
        # meanwhile, or housekeeping declares this live job lost and a second attempt starts beside it.
        snap = self.monitor.beating(lambda: self.hub.snapshot(variant.repo_id, variant.repo_type, revision))
        files = selection.select_files(snap.files, variant.include, variant.exclude)
        if not files:
            raise JobError(ErrorCode.FILE_NOT_FOUND,
                           f"No file of {variant.repo_id}@{revision} matches include="
                           f"{variant.include or ['*']} exclude={variant.exclude or []}",
                           patterns=variant.include or ["*"], endpoint=self.hub.endpoint,
                           repo_id=variant.repo_id, repo_type=variant.repo_type, revision=revision)
        selection.refuse_unsafe_paths(files, self.cache, snap.commit)
        repair_only = set(job.only_paths) if job.kind == JobKind.REPAIR else set()
        if repair_only:
            gone = sorted(repair_only - {f.path for f in files})
            if gone:
                raise JobError(ErrorCode.FILE_NOT_FOUND,
                               f"Files to repair are no longer listed: {', '.join(gone)}",
                               files=gone, endpoint=self.hub.endpoint, repo_id=variant.repo_id,
                               repo_type=variant.repo_type, revision=revision)
        to_fetch = [f for f in files if not repair_only or f.path in repair_only]
        check_space(self.cache, to_fetch, force=job.force, min_free=self.setting.effective_min_free_space)
        total = sum(f.size for f in files)
        if not lifecycle.resolved(job, commit=snap.commit, total=total, files=len(files)):
            raise JobCancelled("This run lost its job (reaped as lost, or cancelled) before downloading.")
        # The commit's whole file list, as huggingface_hub records it: offline loads then see what the
        # commit holds (and which files of it are not here).
        self.cache.write_tree(snap.commit, snap.files)
        listed = [f.path for f in snap.files]
        kind = resolve_kind(variant.kind, [f.path for f in files], listed, snap.facts, variant.repo_type)
        self.event(EventKind.RESOLVED, f"{variant.repo_id}@{revision} is commit {snap.commit[:12]}; "
                               f"{len(files)} file(s), {total:,} bytes")

        outcomes, extra = self._fetch_all(snap.commit, revision, files, to_fetch,
                                          force=job.force or bool(repair_only))
        for f in files:
            self.cache.link(snap.commit, f.path, f.etag)
        if revision == variant.revision:
            self.cache.write_ref(variant.revision, snap.commit)

        self._start_verifying()
        report = verify_streamed(self.cache, snap.commit, outcomes, kind=kind, repo_type=variant.repo_type,
                                 overrides=self.setting.completeness_rules, extra=extra, listed=listed)
        manifest = {f.path: {**f.as_manifest(), "fingerprint": fingerprint(self.cache.blob_path(f.etag))}
                    for f in files if self.cache.blob_path(f.etag).exists()}
        self._finish_verified(report, manifest, commit=snap.commit)

    def _fetch_all(self, commit: str, revision: str, files: list[RemoteFile], to_fetch: list[RemoteFile],
                   *, force: bool) -> tuple[list["FileOutcome"], list[FileCheck]]:
        """Download `to_fetch` in parallel; files of a repair that aren't re-fetched get a fast check."""
        # requests & co.: only jobs that download need them
        from engine.transfer.adaptive import ConnectionBudget
        from engine.transfer.fetcher import Fetcher, LowSpeed
        from engine.transfer.session import TransferSession

        # Clamped here too, not only when saved: a value stored before the bounds must not start hundreds
        # of threads on a repo of a thousand files.
        parallel_files, segments = job_parallelism(self.setting.max_parallel_files,
                                                   self.setting.segments_per_file)
        adaptive = self.setting.segments_per_file == AUTO_SEGMENTS
        connections = MAX_CONNECTIONS_PER_JOB if adaptive else parallel_files * segments
        fetcher = Fetcher(
            hub=self.hub, cache=self.cache, repo_id=self.variant.repo_id, repo_type=self.variant.repo_type,
            # a pooled connection for every connection the job may open at once
            revision=revision, commit=commit, session=TransferSession(connections),
            progress=self.progress, cancel=self.cancel, backoff=_backoff(),
            limiters=[self.job_limiter, self.global_limiter], on_event=self.event,
            segments=segments, segment_min_size=self.setting.segment_min_size, adaptive=adaptive,
            # each file thread holds one connection; the rest is shared as files grow (adaptive.py)
            budget=ConnectionBudget(MAX_CONNECTIONS_PER_JOB - parallel_files) if adaptive else None,
            low_speed=LowSpeed(settings.MODELHUB_LOW_SPEED_LIMIT, settings.MODELHUB_LOW_SPEED_TIME),
        )
        known = self.variant.installed_files if self.variant.commit == commit else {}
        extra: list[FileCheck] = []
        fetch_paths = {f.path for f in to_fetch}
        for f in files:
            if f.path not in fetch_paths:  # repair: the rest is checked against the manifest, fast
                check, _ = _fast_check(self.cache, commit, f, known.get(f.path))
                self.progress.add(f.size, network=False)
                extra.append(check)
        self.monitor.tick(force=True)
        workers = max(1, min(parallel_files, len(to_fetch)))
        outcomes: list[FileOutcome] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"job{self.job.pk}") as pool:
            futures: dict[Future, RemoteFile] = {}
            for f in to_fetch:
                fp = (known.get(f.path) or {}).get("fingerprint")
                futures[pool.submit(fetcher.fetch, f, force=force, trusted_fingerprint=fp)] = f
            try:
                pending = set(futures)
                while pending:
                    finished, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                    for fut in finished:
                        if fut.exception() is None:
                            outcomes.append(fut.result())
                            with self.progress.lock:
                                self.progress.files_done += 1
                        else:
                            self.cancel.set()  # stop the siblings; their partials stay for a resume
                    if self.cancel.is_set():
                        wait(pending)
                        break
                    self.monitor.tick()
            except BaseException:
                self.cancel.set()
                wait(futures)
                raise
        fetcher.session.close()
        errors = [fut.exception() for fut in futures if fut.done() and fut.exception() is not None]
        real = [e for e in errors if not isinstance(e, JobCancelled)]
        if real:
            raise real[0]
        if errors or self.cancel.is_set():
            raise JobCancelled()
        self.monitor.tick(force=True)
        return outcomes, extra

    # --- standalone verification
    def _verify(self) -> None:
        variant = self.variant
        files = variant.installed_files
        total = sum(r["size"] for r in files.values())
        DownloadJob.objects.filter(pk=self.job.pk).update(
            state=JobState.VERIFYING, bytes_total=total, files_total=len(files), commit=variant.commit)
        self.job.bytes_total, self.job.files_total, self.job.state = total, len(files), JobState.VERIFYING
        # auto: the kind inferred (with the Hub's metadata) when the files were installed
        recorded = variant.installed_kind if variant.kind == AUTO else None
        kind = recorded or resolve_kind(variant.kind, sorted(files), repo_type=variant.repo_type)
        report, new_fps = self.monitor.beating(lambda: verify_installed(
            self.cache, variant.commit, files, kind=kind, repo_type=variant.repo_type,
            full=self.job.force, overrides=self.setting.completeness_rules, cancel=self.cancel,
            on_bytes=lambda n: self.progress.add(n, network=False)))
        manifest_files = {p: dict(r) for p, r in files.items()}
        for path, fp in new_fps.items():
            manifest_files[path]["fingerprint"] = fp
        self._finish_verified(report, manifest_files, commit=variant.commit)

    # --- outcome
    def _finish_verified(self, report: dict, manifest_files: dict, *, commit: str) -> None:
        self.job.verification = report
        if not report["ok"]:
            # Only bytes that a new download can fix are worth another attempt (VERIFICATION_FAILED is
            # retried); a broken upload or an incomplete selection fails the same way every time.
            code = {"format": ErrorCode.FORMAT_INVALID, "completeness": ErrorCode.INCOMPLETE}.get(
                report["failure"], ErrorCode.VERIFICATION_FAILED)
            raise JobError(code, f"Verification failed: {report['summary']}",
                           files=report["failed_files"] or report["completeness"].get("missing", []),
                           kind=report["kind"].get("kind", ""),
                           detail=report["completeness"].get("detail", ""))
        self.event(EventKind.VERIFIED, report["summary"])
        self._finish(JobState.SUCCEEDED, installed={"commit": commit, "manifest_files": manifest_files,
                                                    "kind": report["kind"],
                                                    "local_path": str(self.cache.snapshot_dir(commit))})

    def _finish(self, final: str, *, error: JobError | None = None, installed: dict | None = None) -> None:
        """Record the outcome on the job row and, only if this run still owns the job, on the variant."""
        self.monitor.tick(force=True, final=True)
        fields = {"verification": self.job.verification or {}}
        if error is not None:
            ctx = {"endpoint": self.endpoint, "repo_id": self.variant.repo_id,
                   "repo_type": self.variant.repo_type, "revision": self.variant.revision,
                   "storage_dir": str(self.cache.storage_dir), **error.context}
            fields.update(error_code=error.code, error_message=storable(error.message)[:4000],
                          guidance=storable(guidance.guidance_for(error.code, **ctx)))
        owned = lifecycle.finish(self.job, final, fields, installed=installed)
        kind = {JobState.SUCCEEDED: EventKind.FINISHED, JobState.CANCELLED: EventKind.CANCELLED}.get(
            final, EventKind.FAILED)
        if owned and self.job.state == JobState.PAUSED:  # a cancel asked as a pause (lifecycle.finish)
            kind, error = EventKind.PAUSED, JobCancelled("paused; partial files kept for the resume")
        self.event(kind, error.message if error else "all files verified")
        self.monitor.flush_events()
        if not owned:
            log.warning("job %s was taken over (reaped) before it finished as %s", self.job.pk, final)

    def _start_verifying(self) -> None:
        lifecycle.start_verifying(self.job)
        self.event(EventKind.VERIFYING, "checking sizes, checksums, formats and completeness")


def _fast_check(cache: RepoCache, commit: str, f: RemoteFile,
                record: dict | None) -> tuple[FileCheck, dict | None]:
    record = record or {**f.as_manifest()}
    return check_installed_file(cache.snapshot_dir(commit), f.path, record, full=False)


def _backoff() -> Backoff:
    return Backoff(retries=settings.MODELHUB_RETRIES, base=settings.MODELHUB_RETRY_BASE_DELAY, cap=30.0)
