"""Issue 14, item 3: a download started elsewhere (here: `manage.py download --wait` in another process,
as on the command line) shows up on an open list or job page within seconds, and the tab title carries
the overall progress; at 1280 px and at 390 px."""

import re
import time

import pytest

from downloads import services
from downloads.models import DownloadJob, JobState
from tests import workers
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.modelfiles import GGML_F32, make_gguf

pytestmark = pytest.mark.browser
SOON = 6_000  # ms: "within a few seconds" (the idle poll runs every 5 s)


def big_gguf(name: str) -> bytes:
    return make_gguf([("blk.0.weight", [1024, 2048], GGML_F32)], metadata={"general.name": name})


@pytest.fixture
def command_line(configured, artifacts_dir):
    """start(repo_id) runs `manage.py download REPO --wait` in its own process, as a person would."""
    procs = []

    def start(repo_id: str, *args: str):
        proc = workers.manage("download", repo_id, "--wait", *args,
                              log_path=artifacts_dir / "browser-live-download.log")
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        workers.stop(proc)


def started_job(repo_id: str) -> DownloadJob:
    return workers.wait_for(lambda: DownloadJob.objects.filter(variant__repo_id=repo_id).first(),
                            timeout=20, message=f"a job for {repo_id}")


def test_variant_list_shows_a_download_started_on_the_command_line(sized_page, live_server, hub,
                                                                   command_line, artifacts_dir):
    hub.add_repo("org/cli", {"cli-Q4_K_M.gguf": big_gguf("cli")})
    hub.throttle(1_000_000)  # ~8 s: long enough to watch
    variant, _ = services.get_or_create_variant(repo_id="org/cli", name="Q4_K_M")
    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    assert page.locator(f"[data-mh-variant-progress='{variant.pk}']").is_hidden()
    assert not page.title().startswith("(")
    page.wait_for_timeout(1000)  # the page has settled into its idle pace

    command_line("org/cli", "--name", "Q4_K_M")
    bar = page.locator(f"[data-mh-variant-progress='{variant.pk}'] .mh-bar")
    bar.wait_for(state="visible", timeout=SOON + 4000)  # + the command's own start-up
    page.wait_for_function("/^\\(\\d+%/.test(document.title)", timeout=SOON)
    assert re.match(r"^\(\d+%\) Select model variant to change", page.title())
    assert seen_by_user(bar)
    status = page.locator(f"[data-mh-variant='{variant.pk}'][data-mh-field=status]")
    assert status.inner_text() in ("queued", "downloading")
    save_shot(page, artifacts_dir, f"live-variants-{page.mh_width}")
    page.wait_for_selector(f"[data-mh-variant='{variant.pk}'][data-mh-status=installed]", timeout=30_000)
    page.wait_for_function("!document.title.startsWith('(')", timeout=SOON)
    assert DownloadJob.objects.get(variant=variant).state == JobState.SUCCEEDED
    assert list(DownloadJob.objects.values_list("variant_id", flat=True)) == [variant.pk]  # no duplicate


def test_job_list_and_job_page_show_jobs_started_elsewhere(sized_page, live_server, hub, command_line,
                                                           artifacts_dir):
    hub.add_repo("org/first", {"first-Q4_K_M.gguf": make_gguf()})
    hub.add_repo("org/second", {"second-Q8_0.gguf": big_gguf("second")})
    first, _ = services.get_or_create_variant(repo_id="org/first")
    old, _ = services.enqueue(first, run_here=True)
    services.cancel(old)
    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/downloadjob/")
    assert page.locator("#result_list [data-mh-field=state]").all_inner_texts() == ["cancelled"]

    hub.throttle(1_000_000)
    command_line("org/second")
    new = started_job("org/second")
    state = page.locator(f"#result_list [data-mh-job='{new.pk}'][data-mh-field=state]")
    state.wait_for(timeout=SOON)  # the list reloaded itself to show the new row
    assert seen_by_user(state)
    assert seen_by_user(page.locator(f"#result_list [data-mh-job='{new.pk}'] .mh-bar"))
    save_shot(page, artifacts_dir, f"live-jobs-{page.mh_width}")

    page.goto(f"{live_server.url}/admin/downloads/downloadjob/{old.pk}/change/")
    command_line("org/first")
    retried = workers.wait_for(lambda: DownloadJob.objects.exclude(pk=old.pk).filter(variant=first).first(),
                               timeout=20, message="the second job of org/first")
    notice = page.locator("#mh-live-notice")
    notice.wait_for(timeout=SOON)
    assert notice.inner_text() == f"Download started: job {retried.pk} (org/first [all files])"
    assert seen_by_user(notice.locator(f"a[href$='/downloadjob/{retried.pk}/change/']"))
    save_shot(page, artifacts_dir, f"live-job-page-{page.mh_width}")
    deadline = time.monotonic() + 40
    while DownloadJob.objects.filter(state__in=["queued", "running", "verifying"]).exists():
        assert time.monotonic() < deadline, "the command-line downloads did not finish"
        time.sleep(0.5)
