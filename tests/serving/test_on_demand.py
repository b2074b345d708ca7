"""Download on demand: a pull of something not installed queues its download (for a user allowed to start
downloads, with the Setting on), the client is told to come back (503 + Retry-After), and the same
command succeeds once a worker has installed it."""

import subprocess
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Permission

from downloads import tasks
from downloads.jobs import control
from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus
from serving import ondemand
from settings_app.models import Setting
from tests import workers
from tests.serving.conftest import HF, assert_same_as_origin, gguf_files, hf_env, install, run_hf, tiny_files


@pytest.fixture
def on_demand(configured, puller):
    Setting.objects.filter(pk=1).update(hub_on_demand=True)
    puller.user_permissions.add(Permission.objects.get(content_type__app_label="downloads",
                                                       codename="download_modelvariant"))
    return puller


def run_queued() -> None:
    """What a worker does, here: run every queued job with the real download path."""
    for pk in DownloadJob.objects.filter(state=JobState.QUEUED).order_by("pk").values_list("pk", flat=True):
        tasks.run_job(pk)


def get(endpoint, token, path):
    return requests.get(f"{endpoint}/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_hf_download_queues_the_repo_and_succeeds_once_a_worker_installed_it(on_demand, hub, endpoint, token,
                                                                              client_home, artifacts_dir):
    hub.add_repo("org/tiny", tiny_files())
    env = hf_env(endpoint, client_home, token)
    first = run_hf("download", "--quiet", "org/tiny", env=env)
    assert first.returncode != 0
    assert "being downloaded now" in first.stderr, first.stderr
    variant = ModelVariant.objects.get(repo_id="org/tiny")
    assert (variant.revision, variant.include) == ("main", [])
    assert (variant.jobs.get().requested_by, variant.jobs.get().origin) == (on_demand, "hub")
    answer = get(endpoint, token, "api/models/org/tiny/revision/main")
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    assert variant.jobs.count() == 1  # asking again joins the queued job

    worker = workers.start_qcluster(log_path=artifacts_dir / "serving-on-demand-qcluster.log")
    try:
        workers.wait_for(lambda: ModelVariant.objects.get(pk=variant.pk).status == VariantStatus.INSTALLED,
                         timeout=90, message="the on-demand download to be installed")
    finally:
        workers.stop(worker)
    again = run_hf("download", "--quiet", "org/tiny", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_same_as_origin(hub, "org/tiny", Path(again.stdout.strip().splitlines()[-1]), tiny_files())


def test_hf_download_of_one_gguf_waits_for_its_quant_and_gets_it(on_demand, hub, endpoint, token, client_home,
                                                                monkeypatch):
    """huggingface_hub retries a 503 on a file after Retry-After: so one `hf download` of a missing quant
    queues it, waits while a worker fetches it, and ends with the file. Only that quant is fetched."""
    monkeypatch.setattr(ondemand, "RETRY_AFTER", 1)
    hub.add_repo("org/gguf", gguf_files())
    client = subprocess.Popen([HF, "download", "--quiet", "org/gguf", "m-Q8_0.gguf"], text=True,
                              env=hf_env(endpoint, client_home, token), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        workers.wait_for(lambda: DownloadJob.objects.filter(state=JobState.QUEUED).exists(), timeout=30,
                         message="the on-demand job")
        assert ModelVariant.objects.get().include == ["m-Q8_0.gguf"]
        run_queued()
        out, err = client.communicate(timeout=60)
    finally:
        client.kill()
    assert client.returncode == 0, err
    assert "being downloaded now" in err or "503" in err  # it did wait
    assert_same_as_origin(hub, "org/gguf", Path(out.strip().splitlines()[-1]).parent, ["m-Q8_0.gguf"])
    assert hub.bytes_sent("m-Q4_K_M.gguf") == 0


def test_another_quant_of_an_installed_commit_is_fetched_pinned_to_that_commit(on_demand, hub, endpoint,
                                                                               token):
    repo = hub.add_repo("org/gguf", gguf_files())
    install("org/gguf", include=["*Q4_K_M*"])
    hub.add_commit("org/gguf", {"README.md": b"# moved on"})  # main moves upstream meanwhile
    answer = get(endpoint, token, "org/gguf/resolve/main/m-Q8_0.gguf")
    assert answer.status_code == 503
    queued = ModelVariant.objects.get(include=["m-Q8_0.gguf"])
    assert queued.revision == repo.sha
    run_queued()
    for name in ("m-Q4_K_M.gguf", "m-Q8_0.gguf"):  # both at main, from the commit main resolved to
        served = get(endpoint, token, f"org/gguf/resolve/main/{name}")
        assert (served.status_code, served.headers["X-Repo-Commit"]) == (200, repo.sha)
        assert served.content == gguf_files()[name]


@pytest.mark.parametrize("who", ["setting off", "no download permission", "anonymous"])
def test_nothing_is_queued_for_whoever_may_not_start_downloads(configured, hub, puller, token, endpoint, who):
    hub.add_repo("org/tiny", tiny_files())
    if who == "no download permission":
        Setting.objects.filter(pk=1).update(hub_on_demand=True)
    if who == "anonymous":
        Setting.objects.filter(pk=1).update(hub_on_demand=True, hub_allow_anonymous=True)
        answer = requests.get(f"{endpoint}/org/tiny/resolve/main/config.json", timeout=10)
    else:
        answer = get(endpoint, token, "org/tiny/resolve/main/config.json")
    assert (answer.status_code, answer.headers["X-Error-Code"]) == (404, "RepoNotFound")
    assert not ModelVariant.objects.exists()


def test_a_failed_download_is_explained_and_not_queued_again(on_demand, hub, endpoint, token):
    answer = get(endpoint, token, "org/absent/resolve/main/config.json")  # the origin has no such repo
    assert answer.status_code == 503
    run_queued()
    assert ModelVariant.objects.get().status == VariantStatus.FAILED
    again = get(endpoint, token, "org/absent/resolve/main/config.json")
    assert (again.status_code, again.headers["X-Error-Code"]) == (404, "RepoNotFound")
    assert "could not download org/absent@main" in again.json()["error"]
    assert "repo_not_found" in again.json()["error"]
    assert DownloadJob.objects.count() == 1


def test_a_paused_download_is_not_resumed_by_a_pull(on_demand, hub, endpoint, token):
    hub.add_repo("org/tiny", tiny_files())
    assert get(endpoint, token, "org/tiny/resolve/main/config.json").status_code == 503  # queued
    job = DownloadJob.objects.get()
    control.pause(job)
    again = get(endpoint, token, "org/tiny/resolve/main/config.json")
    assert again.status_code == 503 and "Retry-After" not in again.headers
    assert "is paused on this ModelHub" in again.json()["error"] and "resume" in again.json()["error"]
    assert [(j.pk, j.state) for j in DownloadJob.objects.all()] == [(job.pk, JobState.PAUSED)]
