"""The actions through the API, run with the real download path against the test Hub: download, cancel,
retry, verify (fast and full), repair, delete files; and the jobs they leave (list, detail, events)."""

from pathlib import Path

from downloads import services
from downloads.jobs import runner
from downloads.models import DownloadJob, ModelVariant
from tests.api.conftest import assert_error
from tests.jobs import run_download
from tests.storage_helpers import blob_of, flip_byte, model_files


def post(client, path, body=None):
    return client.post(path, body or {}, format="json")


def test_download_queues_once_then_joins_and_cancel_stops_it(operator, configured, hub):
    hub.add_repo("org/model", model_files())
    variant, _ = services.get_or_create_variant(repo_id="org/model")
    first = post(operator, f"/api/v1/variants/{variant.pk}/download/")
    assert first.status_code == 202 and not first.json()["joined"]
    job = first.json()["job"]
    assert (job["state"], job["origin"], job["kind"], job["requested_by"]) == ("queued", "api", "download",
                                                                               "operator")
    again = post(operator, f"/api/v1/variants/{variant.pk}/download/")
    assert again.status_code == 200 and again.json()["joined"] and again.json()["job"]["id"] == job["id"]
    assert operator.get(f"/api/v1/variants/{variant.pk}/").json()["status"] == "queued"

    cancelled = post(operator, f"/api/v1/variants/{variant.pk}/cancel/").json()
    assert cancelled["outcome"] == "cancelled" and cancelled["job"]["state"] == "cancelled"
    assert_error(post(operator, f"/api/v1/variants/{variant.pk}/cancel/"), 409, "conflict")
    assert_error(post(operator, f"/api/v1/jobs/{job['id']}/cancel/"), 409, "conflict")

    retried = post(operator, f"/api/v1/jobs/{job['id']}/retry/")
    assert retried.status_code == 202 and retried.json()["job"]["id"] != job["id"]
    assert_error(post(operator, f"/api/v1/jobs/{retried.json()['job']['id']}/retry/"), 409, "conflict")
    cancelled = post(operator, f"/api/v1/jobs/{retried.json()['job']['id']}/cancel/").json()
    assert cancelled["outcome"] == "cancelled"
    by_variant = post(operator, f"/api/v1/variants/{variant.pk}/retry/")
    assert by_variant.status_code == 202 and by_variant.json()["job"]["kind"] == "download"


def test_verify_full_finds_a_flipped_byte_and_repair_fetches_only_that_file(operator, configured, hub):
    hub.add_repo("org/model", model_files())
    variant = run_download("org/model").variant
    assert_error(post(operator, f"/api/v1/variants/{variant.pk}/repair/"), 409, "conflict")  # nothing bad yet
    flip_byte(blob_of(Path(variant.local_path) / "model.safetensors"))

    fast = post(operator, f"/api/v1/variants/{variant.pk}/verify/", {"mode": "fast"})
    assert fast.status_code == 202 and fast.json()["job"]["kind"] == "verify"
    assert_error(post(operator, f"/api/v1/variants/{variant.pk}/verify/", {"mode": "turbo"}), 400,
                 "invalid_input")
    cancel = post(operator, f"/api/v1/variants/{variant.pk}/cancel/").json()
    assert cancel["outcome"] == "cancelled"

    full = post(operator, f"/api/v1/variants/{variant.pk}/verify/", {"mode": "full"}).json()["job"]
    assert DownloadJob.objects.get(pk=full["id"]).force  # full: every file re-hashed
    runner.run_job(full["id"])
    detail = operator.get(f"/api/v1/jobs/{full['id']}/").json()
    assert detail["state"] == "failed" and detail["error_code"] == "verification_failed"
    assert "model.safetensors" in detail["guidance"]
    rows = {row["path"]: row for row in detail["verification"]["files"]}
    assert not rows["model.safetensors"]["ok"] and rows["config.json"]["ok"]
    assert detail["verification"]["failed_files"] == ["model.safetensors"]
    assert [e["kind"] for e in detail["events"]][0] == "queued" and detail["events"][-1]["message"]
    shown = operator.get(f"/api/v1/variants/{variant.pk}/").json()
    assert shown["last_verification"]["ok"] is False and shown["status"] == "corrupt"

    repair = post(operator, f"/api/v1/variants/{variant.pk}/repair/").json()["job"]
    assert repair["kind"] == "repair"
    assert operator.get(f"/api/v1/jobs/{repair['id']}/").json()["only_paths"] == ["model.safetensors"]
    sent = hub.bytes_sent("config.json")
    runner.run_job(repair["id"])
    assert operator.get(f"/api/v1/jobs/{repair['id']}/").json()["state"] == "succeeded"
    assert hub.bytes_sent("config.json") == sent  # only the bad file was fetched again
    assert operator.get(f"/api/v1/variants/{variant.pk}/").json()["status"] == "installed"


def test_verify_of_a_variant_never_installed_is_a_conflict(operator, db):
    variant, _ = services.get_or_create_variant(repo_id="org/model")
    body = assert_error(post(operator, f"/api/v1/variants/{variant.pk}/verify/"), 409, "conflict")
    assert "never been installed" in body["message"]


def test_delete_files_dry_run_then_for_real(operator, configured, hub):
    hub.add_repo("org/model", model_files())
    variant = run_download("org/model").variant
    snapshot = Path(variant.local_path)
    plan = post(operator, f"/api/v1/variants/{variant.pk}/delete-files/", {"dry_run": True}).json()
    assert plan["dry_run"] and plan["bytes_freed"] == variant.size_bytes and snapshot.exists()
    assert {r["kind"] for r in plan["removals"]} >= {"link", "blob"}
    done = post(operator, f"/api/v1/variants/{variant.pk}/delete-files/").json()
    assert not done["dry_run"] and done["bytes_freed"] == variant.size_bytes
    assert not (snapshot / "model.safetensors").exists()
    assert ModelVariant.objects.get(pk=variant.pk).status == "not_downloaded"
    assert_error(post(operator, f"/api/v1/variants/{variant.pk}/delete-files/"), 409, "conflict")


def test_delete_files_is_refused_while_a_job_is_active_in_the_repo(operator, configured, hub):
    hub.add_repo("org/model", model_files())
    variant = run_download("org/model").variant
    post(operator, f"/api/v1/variants/{variant.pk}/download/")
    body = assert_error(post(operator, f"/api/v1/variants/{variant.pk}/delete-files/"), 409, "conflict")
    assert "cancel it" in body["message"] and Path(variant.local_path, "config.json").exists()


def test_jobs_list_filters_by_state_variant_and_activity(viewer, operator, configured, hub):
    hub.add_repo("org/a", model_files("a"))
    hub.add_repo("org/b", model_files("b"))
    done = run_download("org/a")
    other, _ = services.get_or_create_variant(repo_id="org/b")
    queued = post(operator, f"/api/v1/variants/{other.pk}/download/").json()["job"]
    assert viewer.get("/api/v1/jobs/").json()["count"] == 2

    def ids(query):
        return [j["id"] for j in viewer.get(f"/api/v1/jobs/?{query}").json()["results"]]

    assert ids("state=succeeded") == [done.pk] and ids(f"variant={other.pk}") == [queued["id"]]
    assert ids("active=true") == [queued["id"]] and ids("active=false") == [done.pk]
    row = viewer.get(f"/api/v1/jobs/{done.pk}/").json()
    progress = row["progress"]
    assert progress["percent"] == 100.0 and progress["bytes_done"] == progress["bytes_total"] > 0
    assert row["verification"]["ok"] and row["error_code"] == "" and row["repo_id"] == "org/a"
    assert_error(viewer.get("/api/v1/jobs/?variant=abc"), 400, "invalid_input")
    assert_error(viewer.get("/api/v1/jobs/999999/"), 404, "not_found")


def test_pause_keeps_the_job_and_resume_queues_it_again(operator, configured, hub):
    hub.add_repo("org/model", model_files())
    done = run_download("org/model")
    assert_error(post(operator, f"/api/v1/jobs/{done.pk}/retry/"), 409, "conflict")  # succeeded
    job = post(operator, f"/api/v1/variants/{done.variant_id}/download/").json()["job"]
    assert_error(post(operator, f"/api/v1/jobs/{job['id']}/resume/"), 409, "conflict")  # not paused
    paused = post(operator, f"/api/v1/jobs/{job['id']}/pause/").json()
    assert paused["outcome"] == "paused" and paused["job"]["state"] == "paused"
    shown = operator.get(f"/api/v1/variants/{done.variant_id}/").json()
    assert "partial_bytes" in shown and shown["active_job"] is None
    assert_error(post(operator, f"/api/v1/jobs/{job['id']}/retry/"), 409, "conflict")  # resume it instead
    resumed = post(operator, f"/api/v1/jobs/{job['id']}/resume/").json()
    assert resumed["outcome"] == "queued again" and resumed["job"]["state"] == "queued"
    assert resumed["job"]["id"] == job["id"]
    runner.run_job(job["id"])
    assert operator.get(f"/api/v1/jobs/{job['id']}/").json()["state"] == "succeeded"
