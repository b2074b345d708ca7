"""Issue 14, "Lists", in Chromium at 1280 and 390 px: no update marker when there is no update, the
expected size while a download runs, the total on disk above the list, the repo type on every row,
and relative times with the exact time on hover."""

import datetime

import pytest
from django.utils import timezone

from downloads import services
from downloads.models import DownloadJob, ModelVariant
from modelhub.sizes import format_size
from tests import workers
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.downloads.admin.test_browser_live import big_gguf
from tests.storage_helpers import download, model_files

pytestmark = pytest.mark.browser


@pytest.fixture
def variants(configured, hub):
    """Installed and up to date (checked upstream: same commit), installed with an update upstream, a
    dataset, and a download running slowly in another process."""
    hub.add_repo("org/tiny", model_files())
    current = ModelVariant.objects.get(pk=download("org/tiny", name="tiny").variant_id)
    hub.add_repo("org/old", model_files("old"))
    old = ModelVariant.objects.get(pk=download("org/old", name="old").variant_id)
    ModelVariant.objects.filter(pk=current.pk).update(upstream_commit=current.commit,
                                                      upstream_checked_at=timezone.now())
    ModelVariant.objects.filter(pk=old.pk).update(upstream_commit="f" * 40,
                                                  upstream_checked_at=timezone.now())
    three_min_ago = timezone.now() - datetime.timedelta(minutes=3)
    ModelVariant.objects.filter(pk=current.pk).update(created_at=three_min_ago)
    dataset, _ = services.get_or_create_variant(repo_id="org/corpus", repo_type="dataset", name="corpus")
    return current, old, dataset


@pytest.fixture
def running(configured, hub, artifacts_dir):
    """A download running in its own process (`manage.py download --wait`), throttled to last."""
    hub.add_repo("org/slow", {"slow-Q4_K_M.gguf": big_gguf("slow")})
    hub.throttle(300_000)
    proc = workers.manage("download", "org/slow", "--wait", "--name", "Q4_K_M",
                          log_path=artifacts_dir / "browser-lists-extras-download.log")
    job = workers.wait_for(lambda: DownloadJob.objects.filter(variant__repo_id="org/slow", bytes_total__gt=0,
                                                              state="running").first(),
                           timeout=30, message="the slow download to start")
    yield job
    workers.stop(proc)


def row_of(page, variant_id: int):
    return page.locator("#result_list tbody tr", has=page.locator(f"[data-mh-variant='{variant_id}']"))


def test_variant_list_shows_sizes_types_totals_and_times(sized_page, live_server, variants, running,
                                                         artifacts_dir):
    current, old, dataset = variants
    page = sized_page
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    save_shot(page, artifacts_dir, f"lists-extras-{page.mh_width}")

    status = row_of(page, current.pk).locator("td.field-status_cell_display")
    assert seen_by_user(status)
    assert "update" not in status.inner_text() and "⊗" not in status.inner_text()
    assert status.locator(".mh-badge").count() == 1  # the status only
    update = row_of(page, old.pk).locator(".mh-badge-update")
    assert seen_by_user(update) and update.inner_text() == "update"

    size = row_of(page, running.variant_id).locator("td.field-size_display")
    assert seen_by_user(size)
    assert size.inner_text().split() == [*format_size(running.bytes_total).split(), "expected"]

    total = page.locator("#mh-list-total")
    assert seen_by_user(total)
    on_disk = format_size(current.size_bytes + old.size_bytes)
    assert total.inner_text().startswith(f"{on_disk} on disk in 2 installed variants · ")
    assert "free on the storage volume" in total.inner_text()

    kind = row_of(page, dataset.pk).locator(".mh-repo-type")
    assert seen_by_user(kind) and kind.inner_text().lower() == "dataset"
    assert row_of(page, current.pk).locator(".mh-repo-type").inner_text().lower() == "model"

    added = row_of(page, current.pk).locator(".mh-ago")
    assert seen_by_user(added)
    assert added.inner_text() == "added 3 min ago"
    exact = timezone.localtime(ModelVariant.objects.get(pk=current.pk).created_at).strftime("%Y-%m-%d %H:%M")
    assert added.get_attribute("title").startswith(exact)
