"""Input at the edges: ids beyond 64 bits, non-UTF-8 text from argv, NaN ages. Each is refused up
front as bad input (exit status 2, HTTP 400/404), never a traceback, a 500 or a half-run job."""

import json
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from downloads import services
from downloads.models import DownloadJob, ModelVariant
from engine.selection import InvalidInput, clean_globs
from tests import workers

HUGE = "99999999999999999999999"  # > 2**63 - 1: SQLite raises OverflowError, PostgreSQL a DataError
LATIN1 = "caf\udce9*.gguf"  # what Python makes of the Latin-1 bytes b"caf\xe9*.gguf" in argv


def refused(capsys, *args) -> dict:
    """Run a command with --json; it must exit 2 and answer with an invalid_input object."""
    with pytest.raises(CommandError) as exc:
        call_command(*args, "--json")
    assert exc.value.returncode == 2, exc.value
    answer = json.loads(capsys.readouterr().out)
    assert answer["error_code"] == "invalid_input"
    return answer


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["cancel", "retry", "delete_files", "verify"])
def test_it_refuses_an_id_too_large_for_the_database_with_exit_2(configured, capsys, command):
    answer = refused(capsys, command, HUGE)
    assert HUGE in answer["error_message"]


@pytest.mark.django_db
def test_it_names_only_the_missing_ids_when_one_is_too_large(configured, capsys):
    variant, _ = services.get_or_create_variant(repo_id="org/known")
    answer = refused(capsys, "delete_files", str(variant.pk), HUGE)
    assert answer["error_message"] == f"no variant with id {HUGE}"
    assert ModelVariant.objects.filter(pk=variant.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [HUGE, "-1"])
def test_jobs_limit_out_of_range_is_refused(configured, capsys, limit):
    answer = refused(capsys, "jobs", "--limit", limit)
    assert "--limit" in answer["error_message"]


@pytest.mark.django_db
@pytest.mark.parametrize("rate", [HUGE, "9" * 400])
def test_download_rate_too_large_is_refused_before_a_job_exists(configured, capsys, rate):
    answer = refused(capsys, "download", "org/x", "--limit-rate", rate)
    assert "--limit-rate" in answer["error_message"]
    assert not DownloadJob.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("age", ["nan", "NaN", "inf", "-inf", "-1", "soon"])
def test_cleanup_older_than_must_be_a_finite_number_of_hours(configured, capsys, storage, age):
    partial = storage / "models--org--x" / "blobs" / "abc.incomplete"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"x" * 10)
    answer = refused(capsys, "cleanup_downloads", f"--older-than={age}")
    assert "--older-than" in answer["error_message"]
    assert partial.exists()  # `age < nan` is False for every age: NaN would have removed it


def test_cleanup_service_itself_refuses_nan():
    from downloads.storage.cleanup import cleanup_storage

    with pytest.raises(ValueError):
        cleanup_storage(older_than_hours=float("nan"), dry_run=True)


# --- non-UTF-8 text ------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["include", "exclude"])
def test_clean_globs_refuses_surrogate_escaped_bytes(field):
    with pytest.raises(InvalidInput) as exc:
        clean_globs([LATIN1], field)
    assert f"{field} pattern" in str(exc.value) and "UTF-8" in str(exc.value)
    assert clean_globs(["café*.gguf"], field) == ["café*.gguf"]  # real Unicode is fine


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--include", LATIN1], ["--exclude", LATIN1], ["--revision", "caf\udce9"],
                                  ["--name", "caf\udce9"]])
def test_download_refuses_non_utf8_input_before_creating_anything(configured, capsys, args):
    answer = refused(capsys, "download", "org/x", *args)
    assert "UTF-8" in answer["error_message"]
    assert not ModelVariant.objects.exists() and not DownloadJob.objects.exists()


@pytest.mark.django_db
def test_scan_cache_refuses_a_non_utf8_path(configured, capsys, tmp_path):
    folder = tmp_path / "caf\udce9"  # a real folder whose name is Latin-1 bytes
    folder.mkdir()
    answer = refused(capsys, "scan_cache", "--import", "--path", str(folder))
    assert "UTF-8" in answer["error_message"] and "symlink" in answer["error_message"]


@pytest.mark.django_db(transaction=True)
def test_real_argv_bytes_exit_2_without_a_traceback(configured, tmp_path):
    """The shell hands Python bytes; os.fsdecode turns the invalid ones into surrogates."""
    proc = subprocess.run([workers.sys.executable, str(workers.ROOT / "manage.py"), "download", "org/x",
                           b"--include=caf\xe9*.gguf"], env=workers.subprocess_env(), cwd=workers.ROOT,
                          capture_output=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert b"Traceback" not in proc.stderr and b"UTF-8" in proc.stderr
    assert not ModelVariant.objects.exists()


# --- the web endpoints ---------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("query", [f"ids={HUGE}", f"variants={HUGE}", f"ids=1,{HUGE}", "ids=-3"])
def test_progress_endpoint_answers_400_for_ids_out_of_range(admin_client, configured, query):
    response = admin_client.get(f"/admin/downloads/downloadjob/progress/?{query}")
    assert response.status_code == 400
    assert "ids" in response.json()["error"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [f"/admin/downloads/downloadjob/{HUGE}/change/",
                                 f"/admin/downloads/modelvariant/{HUGE}/change/"])
def test_pages_of_an_impossible_id_are_not_found(admin_client, configured, url):
    response = admin_client.get(url, follow=True)
    assert response.status_code in (200, 404)  # the admin redirects "does not exist" to the list
    assert response.status_code != 500


@pytest.mark.django_db
@pytest.mark.parametrize("url", [f"/admin/downloads/downloadjob/{HUGE}/cancel/",
                                 f"/admin/downloads/downloadjob/{HUGE}/retry/",
                                 f"/admin/downloads/modelvariant/{HUGE}/download/"])
def test_buttons_of_an_impossible_id_answer_404(admin_client, configured, url):
    assert admin_client.post(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [HUGE, "1,abc", "²"])
def test_storage_delete_answers_400_for_ids_out_of_range(admin_client, configured, ids):
    assert admin_client.get(f"/admin/storage/delete/?ids={ids}").status_code == 400
    assert admin_client.post("/admin/storage/delete/", {"ids": ids}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("age", ["nan", "inf"])
def test_storage_cleanup_form_refuses_nan_and_inf(admin_client, configured, storage, age):
    partial = storage / "models--org--x" / "blobs" / "abc.incomplete"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"x")
    response = admin_client.post("/admin/storage/cleanup/", {"older_than": age, "confirm": "1",
                                                             "item": str(partial)})
    assert response.status_code == 302
    assert partial.exists()


def test_variants_saved_with_non_utf8_text_are_repaired_by_the_migration(admin_client):
    """Rows written before input had to be UTF-8 hold lone surrogates in their globs; the migration turns
    each into '?' and their pages render again."""
    import importlib

    from django.apps import apps as django_apps

    from downloads.models import ModelVariant

    variant = ModelVariant.objects.create(repo_id="org/name", include=["caf\udce9*.gguf"], name="n")
    migration = importlib.import_module("downloads.migrations.0007_storable_variant_text")
    migration.forwards(django_apps, None)
    variant.refresh_from_db()
    assert variant.include == ["caf?*.gguf"]
    page = admin_client.get(f"/admin/downloads/modelvariant/{variant.pk}/change/")
    assert page.status_code == 200
    assert "caf?*.gguf" in page.content.decode()
