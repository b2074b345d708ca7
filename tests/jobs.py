"""The real download path, run in the test process (as `download --wait` does)."""

from downloads import services
from downloads.jobs import runner
from downloads.models import DownloadJob


def start_job(repo_id: str, **variant) -> DownloadJob:
    """A queued job for the variant (created or reused), handed to nobody: the test runs it."""
    v, _ = services.get_or_create_variant(repo_id=repo_id, **variant)
    job, _ = services.enqueue(v, origin="command", run_here=True)
    return job


def run_download(repo_id: str, **variant) -> DownloadJob:
    """Queue and run a job for the variant here, through the same code a worker runs."""
    return runner.run_job(start_job(repo_id, **variant).pk)
