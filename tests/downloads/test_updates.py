"""Update available: where installed variants' branches point on the (test) Hub now."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from downloads import tasks
from downloads.models import ModelVariant
from downloads.updates import check_updates
from tests.storage_helpers import download, model_files

pytestmark = pytest.mark.django_db


def _variant(job) -> ModelVariant:
    return ModelVariant.objects.get(pk=job.variant_id)


def test_a_new_upstream_commit_makes_update_available(configured, hub):
    first = hub.add_repo("org/tiny", model_files())
    variant = _variant(download("org/tiny"))
    [result] = check_updates()
    assert result.update_available is False and result.upstream_commit == first.sha
    second = hub.add_commit("org/tiny", {"config.json": b'{"model_type": "llama", "v": 2}'})

    [result] = check_updates()
    assert result.update_available is True and result.upstream_commit == second.sha
    variant.refresh_from_db()
    assert variant.update_available is True
    assert (variant.commit, variant.upstream_commit) == (first.sha, second.sha)
    assert variant.upstream_checked_at is not None


def test_tags_are_followed_and_commit_pinned_variants_are_skipped(configured, hub):
    first = hub.add_repo("org/tiny", model_files(), tags={"v1": "main"})
    pinned = _variant(download("org/tiny", revision=first.sha))
    tagged = _variant(download("org/tiny", revision="v1"))
    hub.reset_log()
    results = {r.variant_id: r for r in check_updates()}
    assert results[pinned.pk].skipped == "pinned to a commit"
    assert results[tagged.pk].upstream_commit == first.sha and results[tagged.pk].update_available is False
    pinned.refresh_from_db()
    assert pinned.upstream_commit == "" and pinned.upstream_checked_at is None
    asked = [r.path for r in hub.requests if "/revision/" in r.path]
    assert asked and all(first.sha not in p for p in asked)  # nobody asked where a commit points


def test_a_failing_repo_is_recorded_and_the_others_are_still_checked(configured, hub):
    hub.add_repo("org/tiny", model_files())
    hub.add_repo("org/gone", model_files("g"))
    ok = _variant(download("org/tiny"))
    gone = _variant(download("org/gone"))
    hub.set_repo("org/gone", private=True)  # without a token it now answers 404 RepoNotFound
    second = hub.add_commit("org/tiny", {"config.json": b"{}"})

    results = {r.variant_id: r for r in check_updates()}
    assert results[gone.pk].error_code == "repo_not_found" and results[gone.pk].error_message
    assert results[gone.pk].update_available is False
    assert results[ok.pk].update_available is True and results[ok.pk].upstream_commit == second.sha
    gone.refresh_from_db()
    assert gone.upstream_error.startswith("repo_not_found") and gone.upstream_checked_at is not None
    assert not gone.upstream_commit and not gone.update_available


def test_variants_that_are_not_installed_are_not_checked(configured, hub):
    hub.add_repo("org/tiny", model_files())
    from downloads import services

    services.get_or_create_variant(repo_id="org/tiny", include=["*.json"])
    assert check_updates() == []


def test_command_and_scheduled_task_report_updates(configured, hub):
    hub.add_repo("org/tiny", model_files())
    variant = _variant(download("org/tiny"))
    hub.add_commit("org/tiny", {"config.json": b"{}"})
    out = StringIO()
    call_command("check_updates", "--json", stdout=out)
    [row] = json.loads(out.getvalue())
    assert row["variant_id"] == variant.pk and row["update_available"] is True
    assert tasks.check_updates() == {"checked": 1, "updates": [variant.pk], "errors": {}}


def test_the_update_check_schedule_and_old_task_paths_still_run(db):
    """Schedules point at downloads.tasks; a task queued under the old path still finds its function."""
    from django.utils.module_loading import import_string
    from django_q.models import Schedule

    assert Schedule.objects.get(name="modelhub-check-updates").func == "downloads.tasks.check_updates"
    for old in ("downloads.tasks_storage.check_updates", "downloads.tasks_storage.import_snapshots"):
        assert callable(import_string(old))
    for schedule in Schedule.objects.all():
        assert callable(import_string(schedule.func)), schedule.func
