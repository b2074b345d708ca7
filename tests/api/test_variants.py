"""Variants through the API: the list (filters, pages, progress, last verification), the detail, what a
Hub reference offers, and creating from a reference and a choice as Add from Hub does."""

from django.contrib.admin.models import LogEntry

from downloads import services
from downloads.models import DownloadJob, JobState, ModelVariant
from tests.api.conftest import assert_error, bearer_client, make_user
from tests.jobs import run_download
from tests.modelfiles import make_gguf
from tests.storage_helpers import model_files


def gguf_repo(hub, repo_id="org/gguf"):
    return hub.add_repo(repo_id, {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(),
                                  "README.md": b"# two quants"})


def test_the_list_filters_by_status_repo_and_kind_and_pages(viewer, db):
    for i in range(5):
        services.get_or_create_variant(repo_id=f"org/m{i}", kind="text" if i % 2 else "auto")
    failed = ModelVariant.objects.get(repo_id="org/m3")
    ModelVariant.objects.filter(pk=failed.pk).update(status="failed")
    body = viewer.get("/api/v1/variants/").json()
    assert body["count"] == 5 and [v["repo_id"] for v in body["results"]] == [f"org/m{i}" for i in range(5)]
    failed_rows = viewer.get("/api/v1/variants/?status=failed").json()["results"]
    assert [v["repo_id"] for v in failed_rows] == ["org/m3"]
    assert viewer.get("/api/v1/variants/?repo=org/m2").json()["results"][0]["repo_id"] == "org/m2"
    assert viewer.get("/api/v1/variants/?repo=org/m*").json()["count"] == 5
    assert {v["repo_id"] for v in viewer.get("/api/v1/variants/?kind=text").json()["results"]} == {
        "org/m1", "org/m3"}
    page = viewer.get("/api/v1/variants/?page_size=2&page=2").json()
    assert page["count"] == 5 and [v["repo_id"] for v in page["results"]] == ["org/m2", "org/m3"]
    assert "page=3" in page["next"] and "page_size=2" in page["next"]
    body = assert_error(viewer.get("/api/v1/variants/?status=bogus"), 400, "invalid_input")
    assert "status" in body["errors"]


def test_a_variant_shows_its_active_job_progress_and_last_verification(viewer, configured, hub):
    hub.add_repo("org/model", model_files())
    done = run_download("org/model")
    variant = done.variant
    row = viewer.get(f"/api/v1/variants/{variant.pk}/").json()
    assert row["status"] == "installed" and row["local_path"] == variant.local_path
    assert row["size_bytes"] == variant.size_bytes > 0 and row["size_on_disk"] == variant.size_bytes
    assert row["active_job"] is None and row["installed_files"] == 4
    assert row["last_verification"]["ok"] is True and row["last_verification"]["job"] == done.pk
    assert row["recent_jobs"][0]["id"] == done.pk and row["recent_jobs"][0]["state"] == "succeeded"

    job, _ = services.enqueue(variant, run_here=True)
    DownloadJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, bytes_total=1000, bytes_done=250,
                                                 speed_bps=50.0)
    listed = viewer.get("/api/v1/variants/").json()["results"][0]
    assert listed["active_job"]["id"] == job.pk and listed["active_job"]["state"] == "running"
    assert listed["active_job"]["progress"]["percent"] == 25.0
    assert listed["active_job"]["progress"]["eta_seconds"] == 15


def test_unknown_variant_ids_are_json_404s(viewer, db):
    assert_error(viewer.get("/api/v1/variants/12345/"), 404, "not_found")
    assert_error(viewer.get("/api/v1/variants/99999999999999999999/"), 404, "not_found")
    assert_error(viewer.get("/api/v1/variants/abc/"), 404, "not_found")


def test_lookup_lists_the_choices_of_a_reference_and_the_one_it_names(operator, configured, hub):
    repo = gguf_repo(hub)
    body = operator.get("/api/v1/lookup/", {"reference": "hf.co/org/gguf:Q8_0"}).json()
    assert body["repo_id"] == "org/gguf" and body["commit"] == repo.sha and body["files_hidden"] is None
    keys = {c["key"]: c for c in body["choices"]}
    assert {"gguf:m-Q4_K_M", "gguf:m-Q8_0", "all"} <= set(keys)
    assert keys["gguf:m-Q8_0"]["named_by_reference"] and not keys["gguf:m-Q4_K_M"]["named_by_reference"]
    assert keys["gguf:m-Q8_0"]["files"] == ["m-Q8_0.gguf"] and keys["gguf:m-Q8_0"]["variant"] is None


def test_create_from_a_quant_reference_without_a_choice(operator, configured, hub):
    gguf_repo(hub)
    response = operator.post("/api/v1/variants/", {"reference": "hf.co/org/gguf:Q4_K_M"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] and body["job"] is None
    variant = ModelVariant.objects.get()
    assert (variant.name, variant.include, variant.status) == ("Q4_K_M", ["m-Q4_K_M.gguf"], "not_downloaded")
    assert body["variant"]["id"] == variant.pk
    assert LogEntry.objects.get().change_message.startswith("Added through the API")
    again = operator.post("/api/v1/variants/", {"reference": "org/gguf", "choice": "gguf:m-Q4_K_M"},
                          format="json")
    assert again.status_code == 200 and not again.json()["created"] and ModelVariant.objects.count() == 1


def test_create_from_links_revisions_and_file_choices(operator, configured, hub):
    repo = gguf_repo(hub)
    file_link = f"https://huggingface.co/org/gguf/blob/{repo.sha}/m-Q8_0.gguf"
    created = operator.post("/api/v1/variants/", {"reference": file_link}, format="json").json()
    assert created["variant"]["revision"] == repo.sha and created["variant"]["include"] == ["m-Q8_0.gguf"]
    whole = operator.post("/api/v1/variants/", {"reference": "org/gguf@main", "choice": "all"},
                          format="json").json()
    assert whole["variant"]["include"] == [] and whole["variant"]["name"] == "all files"
    readme = operator.post("/api/v1/variants/", {"reference": "org/gguf", "choice": "file:README.md"},
                           format="json").json()
    assert readme["variant"]["include"] == ["README.md"]


def test_create_explains_what_is_wrong_with_codes(operator, configured, hub):
    gguf_repo(hub)
    body = assert_error(operator.post("/api/v1/variants/", {"reference": "org/missing", "choice": "all"},
                                      format="json"), 404, "repo_not_found")
    assert "org/missing" in body["guidance"]
    body = assert_error(operator.post("/api/v1/variants/", {"reference": "org/gguf"}, format="json"), 400,
                        "invalid_input")
    assert "gguf:m-Q4_K_M" in body["message"]  # the choices to pick from
    assert_error(operator.post("/api/v1/variants/", {"reference": "org/gguf", "choice": "gguf:nope"},
                               format="json"), 400, "invalid_input")
    assert_error(operator.post("/api/v1/variants/", {"reference": "hf.co/org/gguf:Q2_K"}, format="json"), 400,
                 "invalid_input")
    assert_error(operator.post("/api/v1/variants/", {"reference": "https://example.com/org/gguf"},
                               format="json"), 400, "invalid_input")
    assert_error(operator.post("/api/v1/variants/", {"reference": "org/gguf@main", "revision": "v2",
                                                     "choice": "all"}, format="json"), 400, "invalid_input")
    bad_kind = {"reference": "org/gguf", "choice": "all", "kind": "nope"}
    assert_error(operator.post("/api/v1/variants/", bad_kind, format="json"), 400, "invalid_input")
    assert not ModelVariant.objects.exists()


def test_a_gated_repo_without_token_says_gated_no_token_but_can_be_added_whole(operator, configured, hub):
    hub.add_repo("org/gated", {"m-Q4_K_M.gguf": make_gguf()}, gated="manual")
    looked = operator.get("/api/v1/lookup/", {"reference": "org/gated"}).json()
    assert looked["files_hidden_code"] == "gated_no_token" and "Accept the license" in looked[
        "files_hidden_guidance"]
    assert [c["key"] for c in looked["choices"]] == ["all"]
    body = assert_error(operator.post("/api/v1/variants/", {"reference": "hf.co/org/gated:Q4_K_M"},
                                      format="json"), 403, "gated_no_token")
    assert f"{hub.url}/org/gated" in body["guidance"]
    whole = operator.post("/api/v1/variants/", {"reference": "org/gated", "choice": "all"}, format="json")
    assert whole.status_code == 201 and whole.json()["variant"]["include"] == []


def test_create_and_download_needs_the_download_permission(configured, hub):
    gguf_repo(hub)
    adder, _ = bearer_client(make_user("adder", "downloads.add_modelvariant"))
    wanted = {"reference": "hf.co/org/gguf:Q4_K_M", "download": True}
    body = assert_error(adder.post("/api/v1/variants/", wanted, format="json"), 403, "permission_denied")
    assert "download_modelvariant" in body["message"] and not ModelVariant.objects.exists()
