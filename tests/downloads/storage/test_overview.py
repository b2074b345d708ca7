"""Storage selectors on a cache built by real downloads, and the Storage page with its permissions."""

import os

import pytest
from huggingface_hub import snapshot_download

from downloads.storage.overview import storage_overview
from modelhub.sizes import format_size
from tests.storage_helpers import (
    download,
    model_files,
    queue_download,
    staff_user,
    write_orphan_blob,
    write_partial,
)

pytestmark = pytest.mark.django_db
FOLDER = "models--org--tiny"


@pytest.fixture
def two_revisions(configured, hub, storage):
    """org/tiny at two commits (one file changed), both downloaded: three of four blobs are shared."""
    first = hub.add_repo("org/tiny", model_files())
    download("org/tiny")
    second = hub.add_commit("org/tiny", {"config.json": b'{"model_type": "llama", "v": 2}'})
    download("org/tiny", revision=second.sha)
    return first, second


def _repo(overview, repo_id="org/tiny"):
    return next(r for r in overview.repos if r.repo_id == repo_id)


def _blob_sizes(storage, folder=FOLDER):
    return {p.name: p.stat().st_size for p in (storage / folder / "blobs").iterdir()}


def test_shared_blobs_count_once_per_repo_but_in_each_revision(two_revisions, storage):
    first, second = two_revisions
    repo = _repo(storage_overview())
    sizes = _blob_sizes(storage)
    assert len(sizes) == 5  # four files, plus the second config.json
    assert repo.blob_bytes == repo.size == sum(sizes.values())
    by_commit = {s.commit: s for s in repo.snapshots}
    first_size = sum(f.size for f in first.files.values())
    second_size = sum(f.size for f in second.files.values())
    assert by_commit[first.sha].size == first_size
    assert by_commit[second.sha].size == second_size
    assert repo.size < first_size + second_size
    assert by_commit[first.sha].refs == ["main"] and by_commit[second.sha].refs == []
    assert [str(v) for v in by_commit[first.sha].variants] == ["org/tiny [all files]"]
    assert by_commit[second.sha].files == 4
    assert not repo.unclaimed_blobs and not storage_overview().unclaimed_snapshots


def test_partials_have_size_age_and_the_active_job_that_owns_them(configured, hub, storage):
    hub.add_repo("org/tiny", model_files())
    hub.add_repo("org/other", model_files("o"))
    download("org/tiny")
    owned = write_partial(storage, FOLDER, 300, hours=2)
    stale = write_partial(storage, "models--org--other", 500, hours=30)
    job = queue_download("org/tiny", revision="main", include=["*.json"])

    overview = storage_overview()
    partials = {p.path: p for p in overview.partials}
    assert partials[owned].size == 300 and partials[owned].job_id == job.pk
    assert 2 * 3600 - 60 < partials[owned].age_seconds < 2 * 3600 + 60
    assert partials[stale].size == 500 and partials[stale].job_id is None
    assert _repo(overview).partial_bytes == 300
    assert overview.storage.partial_bytes == 800


def test_files_no_variant_claims_are_listed(two_revisions, storage):
    orphan = write_orphan_blob(storage, FOLDER, b"nobody links to me")
    hand_made = storage / FOLDER / "snapshots" / ("f" * 40)
    hand_made.mkdir()
    linked = write_orphan_blob(storage, FOLDER, b"only a hand-made snapshot links to me")
    os.symlink(f"../../blobs/{linked.name}", hand_made / "notes.txt")

    overview = storage_overview()
    unclaimed = {b.name: b for b in overview.unclaimed_blobs}
    assert set(unclaimed) == {orphan.name, linked.name}
    assert unclaimed[orphan.name].linked is False and unclaimed[linked.name].linked is True
    assert unclaimed[orphan.name].size == len(b"nobody links to me")
    assert [(r.repo_id, s.commit) for r, s in overview.unclaimed_snapshots] == [("org/tiny", "f" * 40)]
    assert overview.storage.unclaimed_bytes == orphan.stat().st_size + linked.stat().st_size


def test_extra_locations_get_their_own_totals(configured, hub, storage, tmp_path):
    repo = hub.add_repo("org/tiny", model_files())
    download("org/tiny")
    other = tmp_path / "other-cache"
    snapshot_download("org/tiny", cache_dir=other, endpoint=hub.url, token=False)

    overview = storage_overview([other, storage])  # the storage folder is never listed twice
    assert [loc.path for loc in overview.locations] == [storage, other]
    files_total = sum(f.size for f in repo.files.values())
    assert overview.locations[0].total_bytes == files_total
    assert overview.locations[1].total_bytes == files_total
    assert overview.locations[1].is_storage is False
    assert (overview.locations[0].volume.free > 0
            and overview.locations[0].volume.total >= overview.locations[0].volume.used)
    # The other cache's snapshot is not claimed by the variant, whose files live in the storage folder.
    assert [r.location for r, _s in overview.unclaimed_snapshots] == [other]


def test_storage_page_shows_locations_repos_partials_and_sizes(admin_client, two_revisions, storage):
    partial = write_partial(storage, FOLDER, 1500, hours=5)
    response = admin_client.get("/admin/storage/")
    assert response.status_code == 200
    html = response.content.decode()
    repo = _repo(storage_overview())
    assert str(storage) in html
    assert "org/tiny" in html
    assert format_size(repo.size) in html
    for snap in repo.snapshots:
        assert snap.commit[:12] in html and format_size(snap.size) in html
    assert partial.name in html and "5.0 h" in html and "no active job" in html
    assert 'class="breadcrumbs"' in html and "Storage" in html
    assert "Clean up" in html and "Import existing caches" in html


def test_storage_page_sends_anonymous_and_non_staff_users_to_login(client, configured):
    response = client.get("/admin/storage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(staff_user("plain", "view_modelvariant", staff=False))
    response = client.get("/admin/storage/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_view_permission_gets_403(client, configured):
    client.force_login(staff_user("nobody"))
    assert client.get("/admin/storage/").status_code == 403


def test_viewer_sees_the_page_but_cannot_clean_up_delete_or_import(client, configured):
    client.force_login(staff_user("viewer", "view_modelvariant"))
    response = client.get("/admin/storage/")
    assert response.status_code == 200
    assert b"Clean up" not in response.content and b"Import selected" not in response.content
    assert client.post("/admin/storage/cleanup/", {"older_than": "24"}).status_code == 403
    assert client.get("/admin/storage/delete/?ids=1").status_code == 403
    assert client.post("/admin/storage/import/", {"snapshot": "x", "mode": "register"}).status_code == 403


def test_admin_index_links_to_storage_for_users_who_may_see_it(client, configured):
    client.force_login(staff_user("viewer", "view_modelvariant"))
    assert b'href="/admin/storage/"' in client.get("/admin/").content
    client.force_login(staff_user("nobody"))
    assert b'href="/admin/storage/"' not in client.get("/admin/").content


def test_a_storage_folder_that_does_not_exist_yet_still_shows_its_volume(admin_client, configured, storage):
    from settings_app.models import Setting

    setting = Setting.load()
    setting.storage_dir = str(storage / "not" / "yet")
    setting.save()
    overview = storage_overview()
    assert overview.storage.exists is False and overview.storage.volume.free > 0 and not overview.repos
    page = admin_client.get("/admin/storage/").content.decode()
    assert "does not exist yet" in page and "No repos in these folders yet." in page
