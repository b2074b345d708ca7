"""What the admin tests share: the changelist URLs, posting an action, running the queue as a worker
would, and jobs made in bulk."""

from django.urls import reverse

from downloads import services, tasks
from downloads.models import DownloadJob, JobState
from tests.modelfiles import make_gguf

VARIANTS = reverse("admin:downloads_modelvariant_changelist")
JOBS = reverse("admin:downloads_downloadjob_changelist")
PROGRESS = reverse("admin:downloads_downloadjob_progress")


def gguf_repo(hub, repo_id="org/gguf"):
    return hub.add_repo(repo_id, {
        "m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(metadata={"general.name": "q8"}),
        "README.md": b"# readme",
    })


def job_url(job) -> str:
    return reverse("admin:downloads_downloadjob_change", args=[job.pk])


def act(client, action: str, objs, url=VARIANTS):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objs]}, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def run_queued() -> list[DownloadJob]:
    """What a worker does: run every queued job, oldest first, with the real download path."""
    queued = DownloadJob.objects.filter(state=JobState.QUEUED).order_by("created_at")
    for pk in queued.values_list("pk", flat=True):
        tasks.run_job(pk)
    return list(DownloadJob.objects.order_by("pk"))


def make_jobs(n: int, by=None, **fields) -> list[DownloadJob]:
    jobs = []
    for i in range(n):
        variant, _ = services.get_or_create_variant(repo_id=f"org/m{i}-{n}")
        job, _ = services.enqueue(variant, requested_by=by)
        DownloadJob.objects.filter(pk=job.pk).update(**fields)
        jobs.append(job)
    return jobs
