"""The storage folder is one every Hugging Face tool agrees with: huggingface_hub reads ModelHub's tree
listing, `hf cache prune` running during or between downloads costs nothing but a restart, `hf cache
rm` is noticed, and `hf cache scan` finds nothing to warn about."""

import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest
from huggingface_hub import get_cached_repo_tree, scan_cache_dir, snapshot_download
from huggingface_hub.errors import IncompleteSnapshotError

from downloads.models import JobState, ModelVariant, VariantStatus
from downloads.storage import health
from engine.cache.layout import RepoCache
from tests import workers
from tests.jobs import run_download
from tests.modelfiles import make_safetensors, pseudo_random_bytes

pytestmark = pytest.mark.django_db
HF = os.path.join(os.path.dirname(sys.executable), "hf")


def hf(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_TOKEN")}
    return subprocess.run([HF, *args], capture_output=True, text=True, timeout=120,
                          env={**env, "HF_HUB_DISABLE_TELEMETRY": "1"})


def files() -> dict[str, bytes]:
    return {"config.json": b'{"model_type": "llama"}', "tokenizer.json": b"{}",
            "model.safetensors": make_safetensors(), "weights.bin": pseudo_random_bytes(3_000_000),
            "extra/notes.txt": b"not selected"}


def test_huggingface_hub_reads_the_tree_listing_and_knows_what_is_not_here(configured, hub, storage):
    repo = hub.add_repo("org/tiny", files())
    job = run_download("org/tiny", include=["*.json", "model.safetensors"])
    assert job.state == JobState.SUCCEEDED, job.error_message
    listed = {f.path: f for f in get_cached_repo_tree("org/tiny", cache_dir=storage)}
    assert set(listed) == set(repo.files)  # the whole commit, as `hf download` records it
    assert listed["config.json"].blob_id == repo.files["config.json"].git_sha1
    assert listed["weights.bin"].size == repo.files["weights.bin"].size
    tree = json.loads(RepoCache(storage, "org/tiny").tree_path(repo.sha).read_text())
    assert tree["format_version"] == 1
    assert tree["files"]["weights.bin"]["lfs_sha256"] == repo.files["weights.bin"].sha256
    with pytest.raises(IncompleteSnapshotError):  # offline: the unselected files are known to be missing
        snapshot_download("org/tiny", cache_dir=storage, local_files_only=True)
    path = snapshot_download("org/tiny", cache_dir=storage, local_files_only=True,
                             allow_patterns=["*.json", "model.safetensors"])
    assert path == ModelVariant.objects.get(pk=job.variant_id).local_path
    assert scan_cache_dir(storage).warnings == []


def test_prune_while_downloading_loses_nothing_and_publishes_the_right_bytes(configured, hub, storage):
    repo = hub.add_repo("org/tiny", files())
    partial = RepoCache(storage, "org/tiny").partial_path(repo.files["weights.bin"].etag)
    hub.throttle(1_000_000, "weights.bin")
    pruned = {}

    def prune_mid_download():
        workers.wait_for(lambda: partial.exists() and partial.stat().st_size > 300_000, timeout=30,
                         message="a partial being written")
        pruned["result"] = hf("cache", "prune", "--cache-dir", str(storage), "--yes")
        pruned["gone"] = not partial.exists()

    thread = threading.Thread(target=prune_mid_download)
    thread.start()
    job = run_download("org/tiny", include=["*.json", "*.safetensors", "weights.bin"])
    thread.join()
    assert pruned["result"].returncode == 0, pruned["result"].stderr
    assert pruned["gone"]  # prune really took the partial away mid-download
    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message)
    blob = RepoCache(storage, "org/tiny").blob_path(repo.files["weights.bin"].etag)
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == repo.files["weights.bin"].sha256
    assert job.events.filter(message__contains="partial file was deleted").exists()
    assert hub.bytes_sent("weights.bin") == len(files()["weights.bin"])  # nothing fetched twice


def test_prune_between_attempts_means_the_file_starts_over(configured, hub, storage, settings):
    settings.MODELHUB_RETRIES = 0  # the first dropped connection ends the attempt, keeping the partial
    repo = hub.add_repo("org/tiny", files())
    partial = RepoCache(storage, "org/tiny").partial_path(repo.files["weights.bin"].etag)
    hub.drop_after("weights.bin", 1_000_000, count=1)  # a first megabyte arrives...
    hub.drop_after("weights.bin", 0, count=100)  # ...then nothing more: the attempt gives up
    first = run_download("org/tiny", include=["weights.bin", "*.json", "*.safetensors"])
    assert first.error_code == "network" and partial.exists()
    assert hf("cache", "prune", "--cache-dir", str(storage), "--yes").returncode == 0
    assert not partial.exists()
    hub.clear_faults()
    again = run_download("org/tiny", include=["weights.bin", "*.json", "*.safetensors"])
    assert again.state == JobState.SUCCEEDED, (again.error_code, again.error_message)
    assert again.bytes_resumed == 0


def test_hf_cache_rm_is_noticed_as_files_removed_outside_modelhub(configured, hub, storage):
    hub.add_repo("org/tiny", files())
    job = run_download("org/tiny", include=["*.json", "model.safetensors"])
    assert job.state == JobState.SUCCEEDED
    done = hf("cache", "rm", "model/org/tiny", "--cache-dir", str(storage), "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    health.apply()
    variant = ModelVariant.objects.get(pk=job.variant_id)
    assert variant.status == VariantStatus.CORRUPT
    assert variant.problem.startswith(("Files removed outside ModelHub", "Storage folder missing"))
    assert scan_cache_dir(storage).warnings == []


def agree(hub, storage, *repos: str) -> None:
    """What huggingface_hub's own tools say of the storage folder: no scan warnings, and every repo
    verifies against the Hub with nothing mismatched or missing."""
    from huggingface_hub import HfApi

    assert scan_cache_dir(storage).warnings == []
    for repo_id in repos:
        result = HfApi(endpoint=hub.url, token=False).verify_repo_checksums(repo_id, cache_dir=storage)
        assert result.mismatches == [] and result.missing_paths == [], (repo_id, result)


def test_hf_tools_agree_after_download_repair_import_move_and_delete(configured, hub, storage, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from downloads import services
    from downloads.jobs import runner

    hub.add_repo("org/a", files())
    job = run_download("org/a")
    assert job.state == JobState.SUCCEEDED
    agree(hub, storage, "org/a")

    variant = ModelVariant.objects.get(pk=job.variant_id)  # damage a file, verify, repair
    blob = RepoCache(storage, "org/a").blob_path(hub.get_repo("org/a").files["weights.bin"].etag)
    with open(blob, "r+b") as fh:
        fh.write(b"\xff" * 16)
    damaged, _ = services.verify(variant, full=True, origin="command", run_here=True)
    assert runner.run_job(damaged.pk).error_code == "verification_failed"
    variant.refresh_from_db()
    repair, _ = services.repair(variant, origin="command", run_here=True)
    assert runner.run_job(repair.pk).state == JobState.SUCCEEDED
    agree(hub, storage, "org/a")

    other = tmp_path / "other-cache"  # a cache made by huggingface_hub, moved into storage
    hub.add_repo("org/b", {"config.json": b"{}", "model.safetensors": make_safetensors()})
    snapshot_download("org/b", cache_dir=other, endpoint=hub.url, token=False)
    out = StringIO()
    call_command("scan_cache", "--path", str(other), "--import", "--move", "--json", stdout=out)
    assert [r["outcome"] for r in json.loads(out.getvalue()) if r["repo_id"] == "org/b"] == ["imported"]
    agree(hub, storage, "org/a", "org/b")

    call_command("delete_files", str(variant.pk), "--json", stdout=StringIO())
    assert not (storage / "models--org--a" / "snapshots").exists() or not any(
        (storage / "models--org--a" / "snapshots").iterdir())
    agree(hub, storage, "org/b")
