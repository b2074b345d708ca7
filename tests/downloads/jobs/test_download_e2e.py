"""The walking skeleton end to end: the real download path against the test Hub server."""

import json
import os

import pytest
from django.core.management import call_command

from downloads import services
from downloads.jobs import runner
from downloads.models import JobState, ModelVariant, VariantStatus
from tests.jobs import run_download as download
from tests.modelfiles import make_gguf, make_safetensors

pytestmark = pytest.mark.django_db


def tiny_model_files():
    return {
        "config.json": b'{"model_type": "llama"}',
        "tokenizer.json": json.dumps({"version": "1.0", "model": {"vocab": {"a": 0}}}).encode(),
        "model.safetensors": make_safetensors(),
        "nested/dir/extra.txt": b"hello nested",
    }




def test_public_repo_downloads_into_hf_cache_layout(configured, hub, storage):
    repo = hub.add_repo("org/tiny", tiny_model_files())
    job = download("org/tiny")
    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message)
    variant = ModelVariant.objects.get(pk=job.variant_id)
    assert variant.status == VariantStatus.INSTALLED
    assert variant.commit == repo.sha
    snap = storage / "models--org--tiny" / "snapshots" / repo.sha
    assert (snap / "nested/dir/extra.txt").read_bytes() == b"hello nested"
    assert os.path.islink(snap / "model.safetensors")
    assert not os.path.isabs(os.readlink(snap / "model.safetensors"))
    assert (storage / "models--org--tiny" / "refs" / "main").read_text() == repo.sha
    assert job.verification["ok"] is True
    assert {f["path"] for f in job.verification["files"]} == set(tiny_model_files())

    from huggingface_hub import scan_cache_dir, snapshot_download

    info = scan_cache_dir(storage)
    assert not info.warnings
    path = snapshot_download("org/tiny", cache_dir=storage, local_files_only=True)
    assert os.path.realpath(path) == os.path.realpath(snap)


def test_gguf_quant_selection_only_fetches_matching_file(configured, hub, storage):
    hub.add_repo("org/gguf", {
        "m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(metadata={"general.name": "q8"}),
        "README.md": b"# readme",
    })
    job = download("org/gguf", include=["*Q4_K_M*.gguf"], name="Q4_K_M")
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert [f["path"] for f in job.verification["files"]] == ["m-Q4_K_M.gguf"]
    assert hub.bytes_sent("m-Q8_0.gguf") == 0


def test_download_command_json_reports_success(configured, hub, capsys):
    hub.add_repo("org/tiny", tiny_model_files())
    call_command("download", "org/tiny", "--wait", "--json")
    out = json.loads(capsys.readouterr().out)
    assert out["state"] == "succeeded"
    assert out["error_code"] is None
    assert out["bytes_done"] == out["bytes_total"] > 0
    assert out["path"].endswith(out["commit"])


def test_progress_writes_are_throttled_for_many_small_files(configured, hub):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    files = {f"data/part-{i:03d}.json": json.dumps({"i": i}).encode() for i in range(100)}
    hub.add_repo("org/many", files)
    variant, _ = services.get_or_create_variant(repo_id="org/many", kind="files")
    job, _ = services.enqueue(variant, origin="command", run_here=True)
    with CaptureQueriesContext(connection) as ctx:
        job = runner.run_job(job.pk)
    assert job.state == JobState.SUCCEEDED and job.files_done == 100
    sql = [q["sql"] for q in ctx.captured_queries]
    job_updates = [q for q in sql if q.startswith('UPDATE "downloads_downloadjob"')]
    event_inserts = [q for q in sql if q.startswith('INSERT INTO "downloads_jobevent"')]
    assert len(job_updates) < 25, f"{len(job_updates)} job-row writes for 100 files"
    assert len(event_inserts) < 10


def test_hf_cache_verify_passes_on_what_modelhub_downloaded(configured, hub, storage):
    import os
    import subprocess
    import sys

    hub.add_repo("org/tiny", tiny_model_files())
    assert download("org/tiny").state == JobState.SUCCEEDED
    hf = os.path.join(os.path.dirname(sys.executable), "hf")
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_XET": "1"}
    env.pop("HF_TOKEN", None)
    done = subprocess.run([hf, "cache", "verify", "org/tiny", "--cache-dir", str(storage),
                           "--fail-on-missing-files", "--fail-on-extra-files"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    # and it notices when a file is damaged, so the check above could fail
    snapshot = ModelVariant.objects.get(repo_id="org/tiny").local_path
    blob = os.path.realpath(os.path.join(snapshot, "config.json"))
    with open(blob, "ab") as fh:
        fh.write(b" ")
    damaged = subprocess.run([hf, "cache", "verify", "org/tiny", "--cache-dir", str(storage)],
                             capture_output=True, text=True, env=env, timeout=120)
    assert damaged.returncode != 0
