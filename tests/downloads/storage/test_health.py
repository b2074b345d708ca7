"""An installed variant whose storage folder vanished, lost files or turned read-only does not stay
silently "installed": the periodic check marks it, and the Storage page says so, with what to do."""

import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from downloads import tasks
from downloads.jobs import lifecycle
from downloads.models import DownloadJob, JobKind, JobState, ModelVariant, VariantStatus
from downloads.storage import health
from tests.storage_helpers import download, model_files


@pytest.fixture
def variant(configured, hub) -> ModelVariant:
    hub.add_repo("org/health", model_files())
    job = download("org/health")
    return ModelVariant.objects.get(pk=job.variant_id)


def refreshed(variant: ModelVariant) -> ModelVariant:
    variant.refresh_from_db()
    return variant


def storage_page(client) -> str:
    response = client.get("/admin/storage/")
    assert response.status_code == 200
    return response.content.decode()


@contextlib.contextmanager
def read_only(folder: Path):
    """Make `folder` read-only for this process, the way production sees it. Tests run as root, which
    ignores permission bits: remount it read-only (a bind mount), else make it immutable (chattr +i).
    As another user a chmod is enough. Skips where none of these is allowed."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield "cannot create files"
        finally:
            folder.chmod(0o755)
        return
    if _run("mount", "--bind", str(folder), str(folder)):
        if _run("mount", "-o", "remount,ro,bind", str(folder)):
            try:
                yield "mounted read-only"
            finally:
                _run("umount", str(folder))
            return
        _run("umount", str(folder))
    if _run("chattr", "+i", str(folder)):
        try:
            yield "cannot create files"
        finally:
            _run("chattr", "-i", str(folder))
        return
    pytest.skip("cannot make a folder read-only for root here (no mount or chattr)")


def _run(*cmd: str) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.django_db
def test_storage_folder_removed_marks_the_variant_and_the_page_says_so(variant, storage, admin_client,
                                                                        capsys):
    shutil.rmtree(storage)
    assert tasks.reverify_installed() == []  # nothing to verify: there is no folder
    variant = refreshed(variant)
    assert variant.status == VariantStatus.CORRUPT
    assert variant.problem.startswith("Storage folder missing")
    assert str(storage) in variant.problem and "mount it again and press Verify" in variant.problem
    page = storage_page(admin_client)
    assert 'data-mh-health="storage_missing"' in page and "Storage folder missing" in page
    assert str(variant) in page
    call_command("models_status", "--json")
    assert json.loads(capsys.readouterr().out)[0]["problem"].startswith("Storage folder missing")


@pytest.mark.django_db
def test_storage_folder_replaced_by_a_file_is_missing(variant, storage):
    shutil.rmtree(storage)
    storage.write_text("not a folder")
    tasks.reverify_installed()
    variant = refreshed(variant)
    assert variant.status == VariantStatus.CORRUPT and "it is not a folder" in variant.problem


@pytest.mark.django_db
def test_snapshot_folder_removed_outside_modelhub(variant, admin_client):
    shutil.rmtree(variant.local_path)
    tasks.reverify_installed()
    variant = refreshed(variant)
    assert variant.status == VariantStatus.CORRUPT
    assert (variant.problem.startswith("Files removed outside ModelHub")
            and variant.local_path in variant.problem)
    assert "Files removed outside ModelHub" in storage_page(admin_client)


@pytest.mark.django_db
def test_a_missing_file_queues_a_verify_at_once_not_when_due(variant, admin_client):
    os.unlink(os.path.realpath(Path(variant.local_path) / "tokenizer.json"))  # its blob: a dangling link
    assert 'data-mh-health="files_missing"' in storage_page(admin_client)
    (job_id,) = tasks.reverify_installed()  # the variant was verified moments ago: not due by the interval
    job = DownloadJob.objects.get(pk=job_id)
    assert job.kind == JobKind.VERIFY and job.origin == "schedule"
    tasks.run_job(job_id)
    variant = refreshed(variant)
    assert variant.status == VariantStatus.CORRUPT and "tokenizer.json" in variant.problem
    assert tasks.reverify_installed() == []  # the verification's finding stands; nothing queued again


@pytest.mark.django_db
def test_a_folder_that_comes_back_is_verified_and_installed_again(variant, storage, tmp_path):
    storage.rename(tmp_path / "unmounted")
    tasks.reverify_installed()
    assert refreshed(variant).status == VariantStatus.CORRUPT
    (tmp_path / "unmounted").rename(storage)
    (job_id,) = tasks.reverify_installed()
    tasks.run_job(job_id)
    variant = refreshed(variant)
    assert variant.status == VariantStatus.INSTALLED and variant.problem == ""


@pytest.mark.django_db
def test_read_only_storage_folder_is_flagged_and_cleared_when_writable(variant, storage, admin_client):
    with read_only(storage) as why:
        assert health.folder_state(storage)[0] == health.READ_ONLY
        tasks.reverify_installed()
        variant = refreshed(variant)
        # The files are intact and readable: still installed, with the notice and what to do.
        assert variant.status == VariantStatus.INSTALLED
        assert variant.problem.startswith("Storage folder is read-only") and why in variant.problem
        assert "Remount it read-write" in variant.problem
        page = storage_page(admin_client)
        assert 'data-mh-health="read_only"' in page and str(variant) in page
    tasks.reverify_installed()
    assert refreshed(variant).problem == ""
    assert "Needs attention" not in storage_page(admin_client)


@pytest.mark.django_db
def test_read_only_notice_does_not_demote_the_variant_when_a_download_fails(variant):
    notice = f"{lifecycle.READ_ONLY}: /x (mounted read-only)."
    ModelVariant.objects.filter(pk=variant.pk).update(problem=notice)
    variant = refreshed(variant)
    job = DownloadJob.objects.create(variant=variant, state=JobState.FAILED, error_code="storage_error")
    lifecycle.variant_after_job(variant, job)
    assert refreshed(variant).status == VariantStatus.INSTALLED


@pytest.mark.django_db
def test_healthy_storage_reports_nothing(variant, admin_client):
    assert health.check() == []
    assert tasks.reverify_installed() == []
    assert refreshed(variant).status == VariantStatus.INSTALLED
    assert "Needs attention" not in storage_page(admin_client)


@pytest.mark.django_db
def test_fresh_install_without_a_storage_folder_is_not_an_alarm(configured, storage, admin_client):
    shutil.rmtree(storage)  # the first download creates it
    assert health.check() == []
    assert "Needs attention" not in storage_page(admin_client)


@pytest.mark.django_db
def test_read_only_storage_folder_is_shown_before_anything_is_installed(configured, storage, admin_client):
    with read_only(storage):
        assert 'data-mh-health="read_only"' in storage_page(admin_client)
