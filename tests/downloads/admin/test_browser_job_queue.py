"""Issue 14, queue clarity and the job page, as a person sees them at 1280 px and at 390 px: a queued job
says why it waits, its place in line and its size (job page, job list, and live in the variant list);
Pause keeps the partials and Resume (offered on the variant page too) continues from them; a cancelled
download leaves "partial (N %)"."""

import re

import pytest

from downloads import services
from downloads.models import DownloadJob, JobState, ModelVariant
from tests.downloads.admin.browser import save_shot, seen_by_user
from tests.downloads.jobs.test_queue import running_job, set_slots
from tests.modelfiles import GGML_F32, make_gguf

pytestmark = pytest.mark.browser


def big_gguf(name: str) -> bytes:
    return make_gguf([("blk.0.weight", [1024, 2048], GGML_F32)], metadata={"general.name": name})


def test_a_queued_job_says_why_it_waits_everywhere_and_the_line_moves(sized_page, live_server, configured,
                                                                       artifacts_dir):
    set_slots(2)
    running_job("org/busy-a"), running_job("org/busy-b")
    jobs = []
    for i, name in enumerate(["Q4_K_M", "Q5_K_M", "Q8_0"]):
        variant, _ = services.get_or_create_variant(repo_id="TheBloke/Llama-2-7B-GGUF", include=[f"*{name}*"],
                                                    name=name)
        ModelVariant.objects.filter(pk=variant.pk).update(size_bytes=(i + 1) * 400_000_000)
        jobs.append(services.enqueue(variant)[0])
    third = jobs[2]
    page = sized_page

    page.goto(f"{live_server.url}/admin/downloads/downloadjob/{third.pk}/change/")
    heading = page.locator("#content h1")
    assert heading.inner_text() == f"Q8_0 · TheBloke/Llama-2-7B-GGUF · download #{third.pk}"
    assert page.title().startswith(f"Queued · Q8_0 · TheBloke/Llama-2-7B-GGUF · download #{third.pk}") or \
        re.match(r"^\(queued · \d+ downloads\) Queued · Q8_0", page.title())
    line = page.locator(f"p.mh-queue[data-mh-job='{third.pk}']")
    assert line.inner_text() == "3rd in line · 2 of 2 download slots in use · 1.2 GB to download"
    assert seen_by_user(line) and seen_by_user(heading)
    assert seen_by_user(page.locator("button:has-text('Pause')"))
    assert page.locator("button:has-text('Retry')").is_hidden()
    save_shot(page, artifacts_dir, f"job-queued-{page.mh_width}")

    page.goto(f"{live_server.url}/admin/downloads/downloadjob/")
    in_list = page.locator(f"#result_list .mh-queue[data-mh-job='{third.pk}']")
    assert in_list.inner_text() == "3rd in line · 2 of 2 download slots in use · 1.2 GB to download"
    assert seen_by_user(in_list)
    save_shot(page, artifacts_dir, f"job-list-queue-{page.mh_width}")

    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    cell = page.locator(f"[data-mh-variant-progress='{third.variant_id}'] [data-mh-field=queue]")
    cell.wait_for(state="visible", timeout=10_000)  # added by the first poll of the live endpoint
    assert cell.inner_text().startswith("3rd in line · 2 of 2 download slots in use")
    assert seen_by_user(cell)
    services.cancel(jobs[0])  # the line moves up; the open page follows
    page.wait_for_function(
        f"(document.querySelector(\"[data-mh-variant-progress='{third.variant_id}'] "
        "[data-mh-field=queue]\") || {}).textContent?.startsWith('2nd in line')", timeout=10_000)
    save_shot(page, artifacts_dir, f"variant-list-queue-{page.mh_width}")


def test_pause_keeps_partials_and_resume_continues_from_them(sized_page, live_server, hub, worker,
                                                              artifacts_dir):
    data = big_gguf("pause")
    hub.add_repo("org/pausable", {"pausable-Q4_K_M.gguf": data})
    hub.throttle(600_000)  # ~14 s for the whole file
    variant, _ = services.get_or_create_variant(repo_id="org/pausable", name="Q4_K_M")
    page = sized_page
    page.goto("about:blank")  # the dashboard it logged in to would reload for the new job, mid-navigation
    job, _ = services.enqueue(variant)
    page.goto(f"{live_server.url}/admin/downloads/downloadjob/{job.pk}/change/")
    page.wait_for_selector("[data-mh-field=state][data-mh-state=running]", timeout=30_000)
    page.wait_for_function("parseFloat(document.querySelector('[data-mh-field=pct]').textContent) > 5",
                           timeout=30_000)
    page.click("button:has-text('Pause')")
    page.wait_for_selector("[data-mh-field=state][data-mh-state=paused]", timeout=15_000)
    page.wait_for_selector("#mh-kept", timeout=15_000)  # the page reloads into its paused form
    kept = page.locator("#mh-kept")
    assert re.fullmatch(r"The [\d.]+ [KM]B already downloaded is on disk and will be reused when you resume "
                        r"it\.", kept.inner_text())
    assert seen_by_user(kept) and page.title().startswith("Paused · Q4_K_M · org/pausable")
    # the whole page fits the screen's width (wide tables scroll inside their panel)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert page.locator("button:has-text('Retry')").is_hidden()
    save_shot(page, artifacts_dir, f"job-paused-{page.mh_width}")
    job.refresh_from_db()
    assert job.state == JobState.PAUSED and 0 < job.bytes_done < len(data)

    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    badge = page.locator(f"[data-mh-variant='{variant.pk}'][data-mh-field=status]")
    assert re.fullmatch(r"paused \(\d+ %\)", badge.inner_text()) and seen_by_user(badge)
    # The variant page offers Resume where Download was, on a phone as on a desktop.
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/{variant.pk}/change/")
    assert seen_by_user(page.locator(".object-tools button", has_text="Resume"))
    assert page.locator(".object-tools button", has_text="Download").count() == 0
    save_shot(page, artifacts_dir, f"variant-paused-{page.mh_width}")

    hub.throttle(None)
    hub.reset_log()
    page.goto(f"{live_server.url}/admin/downloads/downloadjob/{job.pk}/change/")
    page.click("button:has-text('Resume')")
    page.wait_for_selector("[data-mh-field=state][data-mh-state=succeeded]", timeout=30_000)
    page.wait_for_selector("#mh-summary", timeout=15_000)  # reloaded once it ended by itself
    assert "resumed from earlier partial files" in page.locator("#mh-summary").inner_text()
    (get,) = [r for r in hub.file_requests("pausable-Q4_K_M.gguf") if r.method == "GET"]
    job.refresh_from_db()
    assert get.range_start > 0 and get.range_start == job.bytes_resumed  # continued, not restarted
    assert get.bytes_sent == len(data) - get.range_start
    assert DownloadJob.objects.filter(variant=variant).count() == 1
    save_shot(page, artifacts_dir, f"job-resumed-{page.mh_width}")


def test_a_cancelled_download_leaves_the_variant_partial(sized_page, live_server, hub, worker, artifacts_dir):
    hub.add_repo("org/cancelled", {"cancelled-Q4_K_M.gguf": big_gguf("cancel")})
    hub.throttle(600_000)
    variant, _ = services.get_or_create_variant(repo_id="org/cancelled", name="Q4_K_M")
    page = sized_page
    page.goto("about:blank")  # the dashboard it logged in to would reload for the new job, mid-navigation
    job, _ = services.enqueue(variant)
    page.goto(f"{live_server.url}/admin/downloads/downloadjob/{job.pk}/change/")
    page.wait_for_function("parseFloat(document.querySelector('[data-mh-field=pct]').textContent) > 5",
                           timeout=30_000)
    assert re.match(r"^\(\d+%\) Running · Q4_K_M · org/cancelled", page.title()), page.title()
    page.click("text=Cancel job")
    page.wait_for_selector("[data-mh-field=state][data-mh-state=cancelled]", timeout=15_000)
    # no reload after a cancel: the tab title follows the state in place, Retry appears, Pause goes
    page.wait_for_function("document.title.startsWith('Cancelled · Q4_K_M · org/cancelled')",
                           timeout=10_000)
    assert seen_by_user(page.locator("button:has-text('Retry')"))
    assert page.locator("button:has-text('Pause')").is_hidden()
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    badge = page.locator(f"[data-mh-variant='{variant.pk}'][data-mh-field=status]")
    variant.refresh_from_db()
    percent = int(100 * variant.partial_bytes / variant.size_bytes)
    assert badge.inner_text() == f"partial ({percent} %)" and percent > 0
    assert seen_by_user(badge)
    save_shot(page, artifacts_dir, f"variant-partial-{page.mh_width}")
