"""The README's screenshots (docs/*.png), made the way a person would see the pages: the dashboard with a
download running and a failure to fix, Add from Hub with a GGUF repo looked up, and a finished job's page.

Not part of a normal run (it rewrites files in docs/): `scripts/docs_screenshots.sh` sets
MODELHUB_DOCS_SCREENSHOTS=1 and runs it. Each picture is 1280 px wide, reduced by pngquant (apt-get install
pngquant) to a palette PNG when it is installed.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from downloads import services
from downloads.models import DownloadJob
from tests import workers
from tests.downloads.admin.browser import seen_by_user
from tests.downloads.admin.helpers import run_queued
from tests.modelfiles import GGML_F32, make_gguf
from tests.storage_helpers import download, model_files

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    os.environ.get("MODELHUB_DOCS_SCREENSHOTS") != "1",
    reason="rewrites docs/*.png: run scripts/docs_screenshots.sh")]

DOCS = Path(__file__).resolve().parents[3] / "docs"
WIDTH = 1280


def quant(name: str, rows: int = 1024) -> bytes:
    return make_gguf([("blk.0.weight", [rows, 2048], GGML_F32)], metadata={"general.name": name})


def picture(page, name: str, tmp_path: Path, *, height: int) -> Path:
    """A viewport-sized PNG (WIDTH x height), reduced to a palette of at most 128 colours by pngquant."""
    page.set_viewport_size({"width": WIDTH, "height": height})
    page.evaluate("window.scrollTo(0, 0)")
    raw = tmp_path / f"{name}.raw.png"
    page.screenshot(path=str(raw))
    DOCS.mkdir(exist_ok=True)
    target = DOCS / f"{name}.png"
    pngquant = shutil.which("pngquant")
    if pngquant:
        subprocess.run([pngquant, "--force", "--strip", "--speed", "1", "--output", str(target), "128",
                        str(raw)], check=True)
    else:
        shutil.copyfile(raw, target)
    return target


@pytest.fixture
def team_hub(configured, hub):
    """What a team's admin holds after a week: installed models, one failure, GGUF repos to choose from."""
    hub.add_repo("TheOrg/Tiny-Chat-1B", model_files())
    download("TheOrg/Tiny-Chat-1B", name="safetensors")
    hub.add_repo("TheOrg/Tiny-Chat-1B-GGUF", {
        "tiny-chat-1b.Q4_K_M.gguf": quant("q4"), "tiny-chat-1b.Q5_K_M.gguf": quant("q5", 1280),
        "tiny-chat-1b.Q8_0.gguf": quant("q8", 2048),
        "README.md": b"---\nlicense: apache-2.0\ntags: [gguf, chat]\n---\n# Tiny Chat 1B (GGUF)\n\n"
                     b"A small chat model quantized for llama.cpp.\n"})
    download("TheOrg/Tiny-Chat-1B-GGUF", name="Q4_K_M", include=["tiny-chat-1b.Q4_K_M.gguf"])
    hub.add_repo("TheOrg/Big-Model-7B-GGUF", {"big-model-7b.Q4_K_M.gguf": quant("big", 4096)})
    missing, _ = services.get_or_create_variant(repo_id="TheOrg/Retired-Model", name="Q8_0")
    services.enqueue_downloads([missing])
    run_queued()
    return hub


def test_docs_screenshots(login, live_server, team_hub, tmp_path):
    page = login(WIDTH, 900)
    page.goto(f"{live_server.url}/admin/downloads/modelvariant/")
    page.click("#toggle-nav-sidebar")  # folded: the pages get the whole width (remembered by the browser)
    team_hub.throttle(2_000_000)
    proc = workers.manage("download", "TheOrg/Big-Model-7B-GGUF", "--wait", "--name", "Q4_K_M",
                          log_path=tmp_path / "download.log")
    try:
        page.goto(f"{live_server.url}/admin/")
        bar = page.locator("#mh-active .mh-bar")
        bar.wait_for(timeout=20_000)
        page.wait_for_function("/^\\(([1-9]\\d?)%/.test(document.title)", timeout=20_000)
        assert seen_by_user(bar)
        picture(page, "admin-dashboard", tmp_path, height=900)
    finally:
        workers.stop(proc)
    team_hub.throttle(None)

    page.goto(f"{live_server.url}/admin/downloads/modelvariant/add-from-hub/")
    page.fill("#id_repo_id", "https://huggingface.co/TheOrg/Tiny-Chat-1B-GGUF/blob/main/tiny-chat-1b.Q5_K_M.gguf"
              .replace("https://huggingface.co", team_hub.url))
    page.click("input[value='Look up']")
    page.wait_for_selector("#mh-choices")
    picture(page, "admin-add-from-hub", tmp_path, height=1400)

    job = DownloadJob.objects.filter(variant__repo_id="TheOrg/Tiny-Chat-1B-GGUF", state="succeeded").first()
    page.goto(f"{live_server.url}/admin/downloads/downloadjob/{job.pk}/change/")
    page.wait_for_selector("#mh-verification")
    picture(page, "admin-job-page", tmp_path, height=1100)
    for name in ("admin-dashboard", "admin-add-from-hub", "admin-job-page"):
        assert (DOCS / f"{name}.png").stat().st_size < 400_000
