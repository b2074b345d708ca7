"""Add from Hub: the admin view against the test Hub (the catalog's grouping is tested in
tests/engine/test_catalog.py)."""

import pytest
from django.urls import reverse

from downloads.models import DownloadJob, JobState, ModelVariant
from tests.modelfiles import make_gguf, make_safetensors, make_shard_index

ADD_FROM_HUB = reverse("admin:downloads_modelvariant_add_from_hub")


def test_add_from_hub_shows_commit_files_and_grouped_choices(admin_client, configured, hub):
    repo = hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(),
                                     "README.md": b"#"})
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model"}).content.decode()
    assert repo.sha in page and "files readable" in page and "No token: public repos only." in page
    assert 'value="gguf:m-Q4_K_M"' in page and 'value="gguf:m-Q8_0"' in page and 'value="all"' in page
    assert "<code>m-Q4_K_M.gguf</code>" in page
    assert "<details" in page and "All 3 files" in page


def test_add_from_hub_creates_one_variant_per_ticked_choice_and_downloads(
        admin_client, admin_user, configured, hub, django_capture_on_commit_callbacks):
    hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf(), "m-Q8_0.gguf": make_gguf(), "README.md": b"#"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(ADD_FROM_HUB, {
            "repo_id": "org/gguf", "repo_type": "model", "revision": "main", "choices": ["gguf:m-Q4_K_M"],
            "kind": "text", "download_now": "on"}, follow=True)
    variant = ModelVariant.objects.get()
    assert (variant.name, variant.include, variant.exclude) == ("Q4_K_M", ["m-Q4_K_M.gguf"], [])
    job = DownloadJob.objects.get()
    assert job.requested_by == admin_user and job.dispatched_at is not None
    assert (response.redirect_chain[-1][0]
            == reverse("admin:downloads_modelvariant_changelist") + "?q=org%2Fgguf")
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Created 1 variant(s)" in text and "queued 1 new job(s)" in text

    from downloads import tasks
    tasks.run_job(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert hub.bytes_sent("m-Q8_0.gguf") == 0


def test_add_from_hub_without_a_ticked_choice_creates_nothing(admin_client, configured, hub):
    hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf()})
    response = admin_client.post(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model", "kind": "text"})
    assert response.status_code == 200 and "Tick at least one choice." in response.content.decode()
    forged = admin_client.post(ADD_FROM_HUB, {"repo_id": "org/gguf", "repo_type": "model", "kind": "text",
                                              "choices": ["gguf:not-there"]})
    assert "not among this repo&#x27;s choices" in forged.content.decode()
    assert not ModelVariant.objects.exists()


def test_add_from_hub_lists_a_2000_file_repo_across_tree_pages(admin_client, configured, hub):
    files = {f"data/shard-{i:04d}.txt": f"{i}".encode() for i in range(2000)}
    files |= {"m-Q4_K_M.gguf": make_gguf(), "m-Q5_K_S.gguf": make_gguf(),
              "model.safetensors.index.json": make_shard_index({"model-00001-of-00002.safetensors": ["a"],
                                                                "model-00002-of-00002.safetensors": ["b"]}),
              "model-00001-of-00002.safetensors": make_safetensors(), "model-00002-of-00002.safetensors":
              make_safetensors(), "config.json": b"{}"}
    hub.add_repo("org/big", files)  # the fixture's Hub pages the tree by 50: 41 pages
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/big", "repo_type": "model"}).content.decode()
    assert "2006 file(s)" in page and "All 2006 files" in page
    assert "data/shard-1999.txt" in page  # the last page arrived
    assert 'value="gguf:m-Q4_K_M"' in page and 'value="gguf:m-Q5_K_S"' in page
    assert 'value="index:model.safetensors.index.json"' in page
    assert len(page) < 1_000_000


@pytest.mark.parametrize("params, field, fragment", [
    ({"repo_id": "not a repo"}, "repo_id", "is not a repo id"),
    ({"repo_id": "org/missing"}, "repo_id", "repo_not_found"),
    ({"repo_id": "org/gguf", "revision": "nope"}, "revision", "revision_not_found"),
])
def test_add_from_hub_explains_bad_input_on_the_form_and_creates_nothing(
        admin_client, configured, hub, params, field, fragment):
    hub.add_repo("org/gguf", {"m-Q4_K_M.gguf": make_gguf()})
    response = admin_client.get(ADD_FROM_HUB, {"repo_type": "model", **params})
    assert fragment in " ".join(response.context["lookup"].errors[field])
    assert 'id="mh-create"' not in response.content.decode()
    assert not ModelVariant.objects.exists()


def test_add_from_hub_on_a_gated_repo_without_token_shows_the_license_guidance(admin_client, configured, hub):
    hub.add_repo("org/gated", {"m-Q4_K_M.gguf": make_gguf()}, gated="manual")
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/gated", "repo_type": "model"}).content.decode()
    assert "<code>gated_no_token</code>" in page and "the authors approve each request" in page
    assert f'Accept the license at <a href="{hub.url}/org/gated"' in page
    assert 'value="all"' in page  # the whole repo can still be added, to download once access is granted


def test_add_from_hub_with_a_token_that_has_access_lists_the_gated_files(admin_client, configured, hub):
    hub.add_repo("org/gated", {"m-Q4_K_M.gguf": make_gguf()}, gated="manual")
    hub.add_token("hf_good_token_1234", can_access=["org/gated"])
    configured.set_hf_token("hf_good_token_1234")
    configured.save()
    page = admin_client.get(ADD_FROM_HUB, {"repo_id": "org/gated", "repo_type": "model"}).content.decode()
    assert "files readable" in page and 'value="gguf:m-Q4_K_M"' in page
    assert "Token ending in …1234 (saved in Settings)" in page and "hf_good_token_1234" not in page
