"""'Installed' means every byte and every format checks out, at download time and afterwards."""

import json
import os
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from downloads import services, tasks
from downloads.jobs import runner
from downloads.models import DownloadJob, JobKind, JobState, ModelVariant, VariantStatus
from settings_app.models import Setting
from tests.jobs import run_download as run
from tests.modelfiles import make_gguf, make_safetensors, make_shard_index

pytestmark = pytest.mark.django_db


def verify(variant: ModelVariant, *, full: bool = False) -> DownloadJob:
    job, _ = services.verify(variant, full=full, origin="command", run_here=True)
    return runner.run_job(job.pk)


def file_entry(job: DownloadJob, path: str) -> dict:
    return next(f for f in job.verification["files"] if f["path"] == path)


TEXT_MODEL = {
    "config.json": b'{"model_type": "llama"}',
    "tokenizer.json": b'{"model": {}}',
    "model.safetensors": make_safetensors(),
}


def installed(hub, repo_id="org/text", files=None, **kw) -> ModelVariant:
    hub.add_repo(repo_id, files or TEXT_MODEL)
    job = run(repo_id, **kw)
    assert job.state == JobState.SUCCEEDED, job.error_message
    return ModelVariant.objects.get(pk=job.variant_id)


def blob_of(variant: ModelVariant, path: str):
    return os.path.realpath(os.path.join(variant.local_path, path))


def test_download_verification_records_hashes_from_the_stream(configured, hub):
    variant = installed(hub)
    job = variant.jobs.get()
    entry = file_entry(job, "model.safetensors")
    assert entry["ok"] and entry["hash_source"] == "stream"
    assert entry["algo"] == "sha256" and entry["hash_actual"] == entry["hash_expected"]
    assert entry["size_actual"] == entry["size_expected"]
    assert entry["format"]["check"] == "safetensors" and entry["format"]["ok"]
    assert file_entry(job, "config.json")["algo"] == "git-sha1"
    assert job.verification["completeness"]["ok"]
    assert variant.status == VariantStatus.INSTALLED and variant.last_verified_at


def test_gguf_without_magic_is_never_installed(configured, hub):
    bad = b"XXXX" + make_gguf()[4:]
    hub.add_repo("org/badgguf", {"model-Q4_K_M.gguf": bad})
    job = run("org/badgguf")
    assert job.error_code == "format_invalid"
    assert "model-Q4_K_M.gguf" in job.error_message
    entry = file_entry(job, "model-Q4_K_M.gguf")
    assert entry["hash_actual"] == entry["hash_expected"]  # the Hub's bytes, but not a GGUF
    assert not entry["format"]["ok"] and "magic" in entry["format"]["detail"]
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.CORRUPT


def test_safetensors_header_pointing_past_end_fails(configured, hub):
    good = make_safetensors()
    hub.add_repo("org/badst", {**TEXT_MODEL, "model.safetensors": good[:-16]})
    job = run("org/badst")
    assert job.error_code == "format_invalid"
    assert not file_entry(job, "model.safetensors")["format"]["ok"]


def test_index_naming_a_missing_shard_fails_naming_it(configured, hub):
    shard = make_safetensors()
    index = make_shard_index({"model-00001-of-00002.safetensors": ["a"],
                              "model-00002-of-00002.safetensors": ["b"]})
    hub.add_repo("org/sharded", {"tokenizer.json": b"{}", "model.safetensors.index.json": index,
                                 "model-00001-of-00002.safetensors": shard})
    job = run("org/sharded")
    assert job.error_code == "incomplete"
    entry = file_entry(job, "model.safetensors.index.json")
    assert "model-00002-of-00002.safetensors" in entry["format"]["detail"]


def test_truncated_file_on_disk_is_caught_by_fast_verify(configured, hub):
    variant = installed(hub)
    path = blob_of(variant, "model.safetensors")
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) - 10)
    job = verify(variant)
    assert job.error_code == "verification_failed"
    assert "truncated" in file_entry(job, "model.safetensors")["reason"]
    variant.refresh_from_db()
    assert variant.status == VariantStatus.CORRUPT and "model.safetensors" in variant.problem


def test_removed_file_is_reported_missing(configured, hub):
    variant = installed(hub)
    os.unlink(os.path.join(variant.local_path, "tokenizer.json"))
    job = verify(variant)
    assert "missing" in file_entry(job, "tokenizer.json")["reason"]


def test_edit_in_place_is_caught_by_fingerprint_and_by_full(configured, hub):
    variant = installed(hub)
    path = blob_of(variant, "model.safetensors")
    with open(path, "r+b") as fh:  # same size, different bytes
        fh.seek(os.path.getsize(path) - 1)
        last = fh.read(1)
        fh.seek(-1, os.SEEK_END)
        fh.write(bytes([last[0] ^ 0xFF]))
    fast = verify(variant)
    assert fast.error_code == "verification_failed"
    assert "changed on disk" in file_entry(fast, "model.safetensors")["reason"]
    variant.refresh_from_db()
    full = verify(variant, full=True)
    assert full.error_code == "verification_failed"
    assert "mismatch" in file_entry(full, "model.safetensors")["reason"]


def test_touch_without_change_is_not_a_false_alarm(configured, hub):
    variant = installed(hub)
    path = blob_of(variant, "model.safetensors")
    future = time.time() + 100
    os.utime(path, (future, future))
    job = verify(variant)
    assert job.state == JobState.SUCCEEDED
    assert file_entry(job, "model.safetensors")["hash_source"] == "rehash"
    variant.refresh_from_db()
    # the new fingerprint is stored: the next fast verify trusts it without re-reading
    assert file_entry(verify(variant), "model.safetensors")["hash_source"] == "fingerprint"


def test_unchanged_files_pass_fast_verify_without_rehash(configured, hub):
    variant = installed(hub)
    job = verify(variant)
    assert job.state == JobState.SUCCEEDED and job.kind == JobKind.VERIFY
    assert {f["hash_source"] for f in job.verification["files"]} == {"fingerprint"}
    assert job.verification["mode"] == "fast"


def test_repair_fetches_only_the_bad_file(configured, hub):
    variant = installed(hub)
    path = blob_of(variant, "model.safetensors")
    with open(path, "r+b") as fh:
        fh.write(b"\xff\xff\xff")
    assert verify(variant, full=True).error_code == "verification_failed"
    hub.reset_log()
    variant.refresh_from_db()
    job, _ = services.repair(variant, origin="command", run_here=True)
    assert job.only_paths == ["model.safetensors"]
    job = runner.run_job(job.pk)
    assert job.state == JobState.SUCCEEDED, job.error_message
    fetched = {r.file_path for r in hub.requests if r.method == "GET" and r.file_path}
    assert fetched == {"model.safetensors"}
    variant.refresh_from_db()
    assert variant.status == VariantStatus.INSTALLED and not variant.problem
    assert verify(variant, full=True).state == JobState.SUCCEEDED


def test_verify_command_exit_status_and_json(configured, hub, capsys):
    good = installed(hub)
    bad = installed(hub, "org/other", {**TEXT_MODEL, "config.json": b'{"x": 1}'})
    call_command("verify", str(good.pk), "--json")
    assert json.loads(capsys.readouterr().out)[0]["state"] == "succeeded"
    os.unlink(blob_of(bad, "config.json"))
    with pytest.raises(CommandError) as exc:
        call_command("verify", "--all", "--full", "--json")
    assert exc.value.returncode == 1
    results = {r["repo_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert results["org/text"]["state"] == "succeeded"
    assert results["org/other"]["error_code"] == "verification_failed"
    with pytest.raises(CommandError) as exc:
        call_command("verify")
    assert exc.value.returncode == 2


def test_schedule_reverifies_installed_variants_and_flags_drift(configured, hub):
    variant = installed(hub)
    ModelVariant.objects.filter(pk=variant.pk).update(last_verified_at=variant.last_verified_at.replace(year=2000))
    os.unlink(blob_of(variant, "tokenizer.json"))
    Setting.objects.filter(pk=1).update(reverify_interval_hours=1)
    queued = tasks.reverify_installed()
    assert len(queued) == 1
    tasks.run_job(queued[0])
    variant.refresh_from_db()
    assert variant.status == VariantStatus.CORRUPT
    assert "tokenizer.json" in variant.problem
    job = DownloadJob.objects.get(pk=queued[0])
    assert job.origin == "schedule" and job.error_code == "verification_failed"


def test_emptied_folder_fails_naming_every_missing_file(configured, hub):
    import shutil

    variant = installed(hub)
    shutil.rmtree(variant.local_path)
    os.makedirs(variant.local_path)  # the folder exists, empty: "installed" in other tools' eyes
    job = verify(variant)
    assert job.error_code == "verification_failed"
    assert sorted(job.verification["failed_files"]) == sorted(TEXT_MODEL)
    assert all("missing" in f["reason"] for f in job.verification["files"])
    variant.refresh_from_db()
    assert variant.status == VariantStatus.CORRUPT
