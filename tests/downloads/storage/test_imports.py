"""Importing caches that huggingface_hub itself filled: found, verified by hashing, copied or moved."""

import json
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from huggingface_hub import hf_hub_download, scan_cache_dir, snapshot_download

from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus
from downloads.storage import discovery, imports
from tests.storage_helpers import blob_of, flip_byte, model_files, staff_user

pytestmark = pytest.mark.django_db
FOLDER = "models--org--tiny"


@pytest.fixture
def other(tmp_path):
    path = tmp_path / "other-cache"
    path.mkdir()
    return path


@pytest.fixture
def cached(configured, hub, other):
    """org/tiny as `snapshot_download` leaves it in another cache folder."""
    repo = hub.add_repo("org/tiny", model_files())
    path = snapshot_download("org/tiny", cache_dir=other, endpoint=hub.url, token=False)
    return repo, os.path.realpath(path)


def scan(*args) -> list[dict]:
    out = StringIO()
    try:
        call_command("scan_cache", *args, "--json", stdout=out)
    except CommandError:
        pass  # exit status 1 on a failed import; the JSON is still printed
    return json.loads(out.getvalue())


def test_snapshot_from_huggingface_hub_is_found_as_new(cached, other):
    repo, _path = cached
    found = scan("--path", str(other))
    assert len(found) == 1
    f = found[0]
    assert (f["repo_id"], f["commit"], f["refs"], f["files"]) == ("org/tiny", repo.sha, ["main"], 4)
    assert f["complete"] is True and f["registered_variant_id"] is None and f["problems"] == []
    assert f["size"] == sum(x.size for x in repo.files.values())
    assert ModelVariant.objects.count() == 0  # listing registers nothing


def test_import_registers_an_installed_variant_verified_by_hashing_every_file(cached, other):
    repo, path = cached
    [result] = scan("--path", str(other), "--import")
    assert result["outcome"] == "imported", result
    variant = ModelVariant.objects.get(pk=result["variant_id"])
    assert (variant.status, variant.revision, variant.include, variant.commit) == (
        "installed", "main", [], repo.sha)
    assert variant.kind == "auto" and variant.installed_kind["kind"] == "text"
    assert variant.problem == "" and variant.last_verified_at is not None
    assert variant.local_path == path
    files = variant.manifest["files"]
    assert set(files) == set(repo.files)
    lfs = repo.files["model.safetensors"]
    assert lfs.sha256 and files["model.safetensors"]["sha256"] == lfs.sha256
    assert files["model.safetensors"]["git_sha1"] == lfs.git_sha1  # from the cached tree listing
    assert all(r["fingerprint"] and r["fingerprint"]["size"] == r["size"] for r in files.values())
    job = DownloadJob.objects.get(pk=result["job_id"])
    assert (job.kind, job.origin, job.state) == ("verify", "import", JobState.SUCCEEDED)
    assert job.verification["ok"] is True
    assert {f["hash_source"] for f in job.verification["files"]} == {"rehash"}


def test_tampered_blob_in_the_source_makes_the_variant_corrupt_naming_the_file(cached, other):
    _repo, path = cached
    flip_byte(blob_of(os.path.join(path, "model.safetensors")))
    [result] = scan("--path", str(other), "--import")
    assert result["outcome"] == "corrupt"
    variant = ModelVariant.objects.get(pk=result["variant_id"])
    assert variant.status == VariantStatus.CORRUPT
    assert "model.safetensors" in variant.problem
    job = DownloadJob.objects.get(pk=result["job_id"])
    assert job.state == JobState.FAILED and job.error_code == "verification_failed"
    assert job.verification["failed_files"] == ["model.safetensors"]


def test_subset_snapshot_is_registered_with_its_exact_paths(configured, hub, other):
    hub.add_repo("org/tiny", model_files())
    snapshot_download("org/tiny", cache_dir=other, endpoint=hub.url, token=False,
                      allow_patterns=["config.json", "nested/*"])
    hub.add_repo("org/single", model_files("s"))
    hf_hub_download("org/single", "tokenizer.json", cache_dir=other, endpoint=hub.url, token=False)

    results = {r["repo_id"]: r for r in scan("--path", str(other), "--import")}
    tiny = ModelVariant.objects.get(pk=results["org/tiny"]["variant_id"])
    assert tiny.include == ["config.json", "nested/dir/extra.txt"]
    assert tiny.kind == "files" and tiny.status == VariantStatus.INSTALLED
    single = ModelVariant.objects.get(pk=results["org/single"]["variant_id"])
    assert single.include == ["tokenizer.json"] and single.status == VariantStatus.INSTALLED


def _assert_valid_hf_cache(storage, repo):
    info = scan_cache_dir(storage)
    assert not info.warnings, info.warnings
    path = snapshot_download("org/tiny", cache_dir=storage, local_files_only=True)
    for name, f in repo.files.items():
        assert open(os.path.join(path, name), "rb").read() == f.read_bytes()
        assert os.path.islink(os.path.join(path, name))
        assert not os.path.isabs(os.readlink(os.path.join(path, name)))


def test_copy_brings_a_valid_layout_into_storage_and_keeps_the_source(cached, other, storage):
    repo, path = cached
    [result] = scan("--path", str(other), "--import", "--copy")
    assert (result["outcome"] == "imported"
            and result["bytes_copied"] == sum(f.size for f in repo.files.values()))
    _assert_valid_hf_cache(storage, repo)
    variant = ModelVariant.objects.get(pk=result["variant_id"])
    assert variant.local_path == str(storage / FOLDER / "snapshots" / repo.sha)
    assert (storage / FOLDER / "refs" / "main").read_text() == repo.sha
    assert os.path.isdir(path)  # a copy leaves the source alone
    job = DownloadJob.objects.get(pk=result["job_id"])
    assert job.events.filter(kind="started").exists()  # verified by the engine's own runner


def test_move_removes_the_source_after_the_copy_verified(cached, other, storage):
    repo, _path = cached
    [result] = scan("--path", str(other), "--import", "--move")
    assert result["outcome"] == "imported" and result["source_removed"] is True
    _assert_valid_hf_cache(storage, repo)
    assert not (other / FOLDER).exists()
    assert not scan_cache_dir(other).warnings


def test_move_keeps_the_source_and_never_publishes_bad_bytes_when_a_blob_is_tampered(cached, other, storage):
    _repo, path = cached
    bad = blob_of(os.path.join(path, "model.safetensors"))
    flip_byte(bad)
    [result] = scan("--path", str(other), "--import", "--move")
    assert result["outcome"] == "corrupt" and result["source_removed"] is False
    assert "model.safetensors" in result["message"] and "kept" in result["message"]
    assert bad.exists() and os.path.isdir(path)
    assert not (storage / FOLDER / "blobs" / bad.name).exists()
    variant = ModelVariant.objects.get(pk=result["variant_id"])
    assert variant.status == VariantStatus.CORRUPT and "model.safetensors" in variant.problem


def test_import_is_idempotent(cached, other):
    first = scan("--path", str(other), "--import", "--copy")
    counts = (ModelVariant.objects.count(), DownloadJob.objects.count())
    second = scan("--path", str(other), "--import", "--copy")
    assert (ModelVariant.objects.count(), DownloadJob.objects.count()) == counts
    assert {r["outcome"] for r in second} == {"skipped"}
    assert all("already registered" in r["message"] for r in second)
    assert len(second) == 2  # the copy in the storage folder and the source: both known now
    assert [r["outcome"] for r in first] == ["imported"]
    listed = scan("--path", str(other))
    assert {f["registered_variant_id"] for f in listed} == {first[0]["variant_id"]}


def test_partials_and_locks_in_the_source_are_not_imported(cached, other, storage):
    repo, _path = cached
    (other / FOLDER / "blobs" / "abc123.deadbeef.incomplete").write_bytes(b"half a file")
    (other / ".locks" / FOLDER / "feedface.lock").write_text("")
    [found] = discovery.find_snapshots([other])
    assert not any(p.endswith(".incomplete") for p in found.files)
    [result] = imports.import_snapshots([found], mode="copy")
    assert result.outcome == "imported"
    assert not list((storage / FOLDER / "blobs").glob("*.incomplete"))
    assert not (storage / ".locks" / FOLDER / "feedface.lock").exists()
    assert sorted(p.name for p in (storage / FOLDER / "blobs").iterdir()) == sorted(
        f.sha256 or f.git_sha1 for f in repo.files.values())


def test_storage_page_lists_found_snapshots_and_imports_the_selected_ones(client, cached, other, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # run the import task in this process, as a worker would
    repo, _path = cached
    client.force_login(staff_user("importer", "view_modelvariant", "add_modelvariant"))
    page = client.get("/admin/storage/", {"paths": str(other)}).content.decode()
    [found] = [f for f in discovery.find_snapshots([other]) if f.location == other]
    assert f'value="{found.key}"' in page and repo.sha[:12] in page and "new" in page
    assert client.post("/admin/storage/import/", {"snapshot": found.key, "mode": "move",
                                                  "path": str(other)}).status_code == 403  # moving deletes
    response = client.post("/admin/storage/import/", {"snapshot": found.key, "mode": "copy",
                                                      "path": str(other)})
    assert response.status_code == 302
    variant = ModelVariant.objects.get(repo_id="org/tiny")
    assert variant.status == VariantStatus.INSTALLED
    assert variant.jobs.get().requested_by.username == "importer"
    assert "registered as" in client.get("/admin/storage/", {"paths": str(other)}).content.decode()


def test_a_cache_in_the_storage_folder_itself_is_registered_once_even_if_also_elsewhere(cached, other, hub,
                                                                                       storage):
    repo, _path = cached
    snapshot_download("org/tiny", cache_dir=storage, endpoint=hub.url, token=False)  # HF_HUB_CACHE=storage
    results = scan("--path", str(other), "--import")
    assert [r["outcome"] for r in results] == ["imported", "skipped"]  # the storage folder comes first
    assert results[0]["location"] == str(storage) and "already registered" in results[1]["message"]
    variant = ModelVariant.objects.get()
    assert variant.local_path == str(storage / FOLDER / "snapshots" / repo.sha)
    job = variant.jobs.get()
    assert job.worker and job.events.filter(kind="verified").exists()  # the engine's runner verified it


def test_scan_cache_rejects_a_folder_that_does_not_exist(configured, tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("scan_cache", "--path", str(tmp_path / "nope"), stdout=StringIO())
    assert exc.value.returncode == 2 and "no such folder" in str(exc.value)


def test_viewers_cannot_make_the_page_read_other_folders(client, cached, other):
    client.force_login(staff_user("viewer", "view_modelvariant"))
    page = client.get("/admin/storage/", {"paths": str(other)}).content.decode()
    assert str(other) not in page
