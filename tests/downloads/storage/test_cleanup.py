"""cleanup_downloads and delete_files on a storage folder filled by real downloads plus hand-made
leftovers."""

import json
import os
from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from huggingface_hub import scan_cache_dir

from downloads import services
from downloads.jobs.inline import run_and_follow
from downloads.models import JobState, ModelVariant, VariantStatus
from downloads.storage.cleanup import cleanup_storage
from downloads.storage.delete import delete_variant_files, plan_delete
from engine.cache.layout import RepoCache
from tests.storage_helpers import (
    download,
    model_files,
    queue_download,
    set_age,
    staff_user,
    write_orphan_blob,
    write_partial,
)

pytestmark = pytest.mark.django_db
FOLDER = "models--org--tiny"


@pytest.fixture
def installed(configured, hub, storage):
    repo = hub.add_repo("org/tiny", model_files())
    job = download("org/tiny")
    return repo, ModelVariant.objects.get(pk=job.variant_id)


def run(command: str, *args) -> dict:
    out = StringIO()
    try:
        call_command(command, *args, "--json", stdout=out)
    except CommandError:
        pass  # exit status 1 (refused, errors); the JSON report is printed first
    return json.loads(out.getvalue())


def full_verify(variant: ModelVariant):
    job, _ = services.verify(variant, full=True, origin="command", run_here=True)
    return run_and_follow(job)


@pytest.fixture
def leftovers(installed, hub, storage):
    """Stale, fresh and job-owned partials, an orphan blob, a dangling link and a stale lock."""
    repo, _variant = installed
    hub.add_repo("org/busy", model_files("b"))
    RepoCache(storage, "org/busy").ensure_dirs()  # as its job does before writing the partial
    snap = storage / FOLDER / "snapshots" / repo.sha
    os.symlink("../../blobs/" + "0" * 64, snap / "gone.bin")
    lock = storage / ".locks" / FOLDER / ("1" * 64 + ".lock")
    lock.write_text("")
    return {
        "stale": write_partial(storage, FOLDER, 700, hours=30),
        "fresh": write_partial(storage, FOLDER, 300, hours=1),
        "owned": write_partial(storage, "models--org--busy", 900, hours=48),
        "orphan": write_orphan_blob(storage, FOLDER, b"x" * 1234),
        "dangling": snap / "gone.bin",
        "lock": lock,
        "job": queue_download("org/busy"),
    }


def test_dry_run_lists_what_would_go_and_deletes_nothing(leftovers):
    report = run("cleanup_downloads", "--dry-run")
    removed = {item["path"]: item["kind"] for item in report["removed"]}
    assert removed[str(leftovers["stale"])] == "partial"
    assert removed[str(leftovers["orphan"])] == "orphan_blob"
    assert removed[str(leftovers["dangling"])] == "dangling_link"
    assert removed[str(leftovers["lock"])] == "stale_lock"
    assert str(leftovers["fresh"]) not in removed and str(leftovers["owned"]) not in removed
    assert report["bytes_freed"] == 700 + 1234
    assert report["dry_run"] is True
    for key in ("stale", "orphan", "lock"):
        assert leftovers[key].exists()
    assert os.path.islink(leftovers["dangling"])


def test_cleanup_removes_stale_leftovers_and_keeps_fresh_and_job_owned_partials(leftovers, installed,
                                                                                 storage):
    report = run("cleanup_downloads")
    assert report["bytes_freed"] == 700 + 1234
    assert (not leftovers["stale"].exists() and not leftovers["orphan"].exists()
            and not leftovers["lock"].exists())
    assert not os.path.lexists(leftovers["dangling"])
    assert leftovers["fresh"].exists() and leftovers["owned"].exists()
    kept = {item["path"]: item["detail"] for item in report["skipped"]}
    assert f"job {leftovers['job'].pk}" in kept[str(leftovers["owned"])]
    assert "younger than 24 h" in kept[str(leftovers["fresh"])]
    # What a variant uses is untouched: it still passes a full re-hash, and the cache is valid.
    _repo, variant = installed
    assert full_verify(variant).state == JobState.SUCCEEDED
    leftovers["fresh"].unlink()  # huggingface_hub lists partials separately; it does not warn about them
    assert not scan_cache_dir(storage).warnings


def test_older_than_decides_which_partials_are_stale(installed, storage):
    partial = write_partial(storage, FOLDER, 100, hours=3)

    def partials(report):
        return [i.path for i in report.removed if i.kind == "partial"]

    assert partials(cleanup_storage(dry_run=True)) == []
    assert partials(cleanup_storage(dry_run=True, older_than_hours=2)) == [partial]
    run("cleanup_downloads", "--older-than", "2")
    assert not partial.exists()


def test_confirmed_cleanup_removes_only_what_the_dry_run_showed(installed, storage):
    shown = write_partial(storage, FOLDER, 100, hours=30)
    dry = cleanup_storage(dry_run=True)
    later = write_partial(storage, FOLDER, 200, hours=30)
    done = cleanup_storage(only={str(i.path) for i in dry.removed})
    assert [i.path for i in done.removed if i.kind == "partial"] == [shown]
    assert later.exists()


def test_cleanup_never_follows_symlinks_out_of_the_storage_folder(installed, storage, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / ("a" * 64)
    precious.write_bytes(b"not yours")
    set_age(precious, 100)
    evil = storage / "models--evil--repo"
    (evil / "snapshots").mkdir(parents=True)
    os.symlink(outside, evil / "blobs")
    escaping = storage / FOLDER / "blobs" / ("b" * 64)
    os.symlink(precious, escaping)

    report = cleanup_storage()
    assert precious.exists() and os.path.islink(escaping)
    assert str(escaping) in {str(i.path) for i in report.skipped}
    assert all(str(outside) not in str(i.path) for i in report.removed)


def test_delete_files_frees_exactly_the_unshared_blobs(configured, hub, storage):
    repo = hub.add_repo("org/tiny", model_files())
    weights = download("org/tiny", include=["config.json", "model.safetensors"], kind="files")
    tokenizer = download("org/tiny", include=["config.json", "tokenizer.json"], kind="files")
    a, b = ModelVariant.objects.get(pk=weights.variant_id), ModelVariant.objects.get(pk=tokenizer.variant_id)
    snap = storage / FOLDER / "snapshots" / repo.sha
    weights_blob = storage / FOLDER / "blobs" / repo.files["model.safetensors"].sha256

    plan = plan_delete([a])
    assert plan.bytes_freed == repo.files["model.safetensors"].size
    assert any("config.json" in why for why in plan.variants[0].kept)
    done = delete_variant_files(a)
    assert done.bytes_freed == plan.bytes_freed
    assert not weights_blob.exists() and not os.path.lexists(snap / "model.safetensors")
    assert (snap / "config.json").exists() and (snap / "tokenizer.json").exists()
    a.refresh_from_db()
    assert (a.status, a.manifest, a.local_path, a.last_verified_at) == (
        VariantStatus.NOT_DOWNLOADED, {}, "", None)
    assert full_verify(b).state == JobState.SUCCEEDED
    assert not scan_cache_dir(storage).warnings


def test_deleting_the_last_variant_removes_its_snapshot_folder_and_ref(installed, storage):
    repo, variant = installed
    report = run("delete_files", str(variant.pk))
    assert report["bytes_freed"] == sum(f.size for f in repo.files.values())
    assert not (storage / FOLDER / "snapshots" / repo.sha).exists()
    assert not (storage / FOLDER / "refs" / "main").exists()
    assert not list((storage / FOLDER / "blobs").iterdir())
    assert not scan_cache_dir(storage).warnings


def test_delete_files_dry_run_plans_without_deleting(installed, storage):
    repo, variant = installed
    report = run("delete_files", str(variant.pk), "--dry-run")
    assert report["dry_run"] is True and report["bytes_freed"] == sum(f.size for f in repo.files.values())
    kinds = sorted(r["kind"] for r in report["variants"][0]["removals"])
    assert kinds == ["blob"] * 4 + ["folder"] + ["link"] * 4 + ["ref"]
    assert (storage / FOLDER / "snapshots" / repo.sha / "model.safetensors").exists()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.INSTALLED


def test_delete_is_refused_while_a_job_is_active(installed, storage):
    repo, variant = installed
    services.verify(variant, origin="command", run_here=True)  # queued, not run: an active job
    report = run("delete_files", str(variant.pk))
    assert "active" in report["variants"][0]["refused"] and report["bytes_freed"] == 0
    assert (storage / FOLDER / "snapshots" / repo.sha / "model.safetensors").exists()
    variant.refresh_from_db()
    assert variant.status == VariantStatus.INSTALLED


def test_delete_confirmation_page_shows_the_plan_then_deletes_on_post(client, installed, storage):
    repo, variant = installed
    client.force_login(staff_user("deleter", "view_modelvariant", "delete_files_modelvariant"))
    page = client.get(f"/admin/storage/delete/?ids={variant.pk}")
    assert page.status_code == 200
    from modelhub.sizes import format_size

    assert format_size(sum(f.size for f in repo.files.values())) in page.content.decode()
    assert (storage / FOLDER / "snapshots" / repo.sha).exists()  # GET changes nothing
    assert client.post("/admin/storage/delete/", {"ids": str(variant.pk)}).status_code == 302
    assert not (storage / FOLDER / "snapshots" / repo.sha).exists()
    entry = LogEntry.objects.get(object_id=str(variant.pk))
    assert entry.user.username == "deleter" and "Deleted files from disk" in entry.get_change_message()


def test_delete_and_cleanup_pages_need_the_delete_files_permission(client, installed, storage):
    _repo, variant = installed
    client.force_login(staff_user("viewer", "view_modelvariant", "change_modelvariant"))
    assert client.get(f"/admin/storage/delete/?ids={variant.pk}").status_code == 403
    assert client.post("/admin/storage/delete/", {"ids": str(variant.pk)}).status_code == 403
    assert client.post("/admin/storage/cleanup/", {"older_than": "0", "confirm": "1"}).status_code == 403
    variant.refresh_from_db()
    assert variant.status == VariantStatus.INSTALLED


def test_cleanup_page_shows_a_dry_run_then_removes_on_confirm(client, installed, storage):
    partial = write_partial(storage, FOLDER, 2500, hours=30)
    client.force_login(staff_user("cleaner", "view_modelvariant", "delete_files_modelvariant"))
    dry = client.post("/admin/storage/cleanup/", {"older_than": "24"})
    assert (dry.status_code == 200 and partial.name in dry.content.decode()
            and "2.5 KB" in dry.content.decode())
    assert partial.exists()
    done = client.post("/admin/storage/cleanup/", {"older_than": "24", "confirm": "1", "item": str(partial)})
    assert done.status_code == 200 and "freed" in done.content.decode()
    assert not partial.exists()
