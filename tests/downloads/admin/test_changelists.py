"""The changelists and the progress JSON: live progress, a constant number of queries, the queue's order."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from downloads import services
from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus
from tests.downloads.admin.helpers import JOBS, PROGRESS, VARIANTS, job_url, make_jobs

pytestmark = pytest.mark.django_db


def test_progress_json_has_job_dicts_and_variant_statuses(admin_client, configured):
    running, queued = make_jobs(2)
    DownloadJob.objects.filter(pk=running.pk).update(state=JobState.RUNNING, bytes_total=1000, bytes_done=250,
                                                     speed_bps=50.0)
    ModelVariant.objects.filter(pk=running.variant_id).update(status=VariantStatus.DOWNLOADING)
    data = admin_client.get(PROGRESS, {"ids": f"{running.pk}"}).json()
    [item] = data["jobs"]
    assert item["job_id"] == running.pk and item["state"] == "running" and item["percent"] == 25.0
    assert item["bytes_done"] == 250 and item["speed_bps"] == 50 and item["eta_seconds"] == 15
    assert item["url"] == job_url(running) and "verification" not in item
    assert data["variants"] == [{"id": running.variant_id, "status": "downloading", "job_id": running.pk,
                                 "status_label": "downloading"}]
    assert data["active"] is True

    by_variant = admin_client.get(PROGRESS, {"variants": f"{queued.variant_id}"}).json()
    assert [j["job_id"] for j in by_variant["jobs"]] == [queued.pk]
    assert by_variant["variants"][0]["status"] == "queued"

    everything = admin_client.get(PROGRESS).json()
    assert {j["job_id"] for j in everything["jobs"]} == {running.pk, queued.pk}
    assert admin_client.get(PROGRESS, {"ids": "1,abc"}).status_code == 400


def test_progress_json_says_inactive_when_everything_finished(admin_client, configured):
    [job] = make_jobs(1)
    services.cancel(job)
    data = admin_client.get(PROGRESS, {"ids": str(job.pk)}).json()
    assert data["active"] is False and data["jobs"][0]["state"] == "cancelled"


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_changelists_and_progress_endpoint_use_a_constant_number_of_queries(admin_client, admin_user,
                                                                            configured):
    few = make_jobs(5, by=admin_user, bytes_total=100, bytes_done=10)
    counts_few = [count_queries(admin_client, JOBS), count_queries(admin_client, VARIANTS),
                  count_queries(admin_client, PROGRESS, {
                      "ids": ",".join(str(j.pk) for j in few),
                      "variants": ",".join(str(j.variant_id) for j in few)})]
    many = few + make_jobs(45, by=admin_user, bytes_total=100, bytes_done=10)
    counts_many = [count_queries(admin_client, JOBS), count_queries(admin_client, VARIANTS),
                   count_queries(admin_client, PROGRESS, {
                       "ids": ",".join(str(j.pk) for j in many),
                       "variants": ",".join(str(j.variant_id) for j in many)})]
    assert counts_few == counts_many
    # session, user, variants + latest job ids, jobs with variants, totals; and for queued jobs the queue
    # (active jobs, the setting, the last worker seen: downloads.jobs.queue)
    assert counts_many[2] <= 8


def test_changelists_render_progress_bars_without_javascript(admin_client, configured):
    [job] = make_jobs(1)
    DownloadJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, bytes_total=4_000_000,
                                                 bytes_done=1_000_000, speed_bps=1_000_000.0)
    for url in (JOBS, VARIANTS):
        page = admin_client.get(url).content.decode()
        assert 'style="width: 25.0%"' in page and f'data-mh-job="{job.pk}" data-mh-field="pct">25.0%' in page
        assert "1.0 MB/s" in page and "3 s left" in page
        assert 'data-progress-url="/admin/downloads/downloadjob/progress/"' in page and " defer" in page
    assert "1.0 MB / 4.0 MB" in admin_client.get(VARIANTS).content.decode()


def test_variant_list_flags_an_available_update_and_says_nothing_otherwise(admin_client, configured):
    current, _ = services.get_or_create_variant(repo_id="org/current")
    stale, _ = services.get_or_create_variant(repo_id="org/stale")
    ModelVariant.objects.filter(pk=current.pk).update(commit="a" * 40, upstream_commit="a" * 40)
    ModelVariant.objects.filter(pk=stale.pk).update(commit="a" * 40, upstream_commit="b" * 40)
    page = admin_client.get(VARIANTS).content.decode()
    rows = {repo: page.split(f'title="{repo}"', 1)[1].split("</tr>")[0]
            for repo in ("org/current", "org/stale")}
    assert 'title="upstream is at bbbbbbbbbbbb">update</span>' in rows["org/stale"]
    assert "mh-badge-update" not in rows["org/current"] and "icon-no" not in rows["org/current"]


def test_job_changelist_lists_finished_jobs_newest_first_after_the_queue(admin_client, configured):
    older, newer, active = make_jobs(3)
    for job in (older, newer):
        services.cancel(job)
    page = admin_client.get(JOBS).content.decode()
    assert page.index(job_url(active)) < page.index(job_url(newer)) < page.index(job_url(older))


def test_progress_json_has_overall_totals_and_jobs_created_since_the_page_was_made(admin_client, configured):
    before = time.time() - 1
    running, queued = make_jobs(2)
    DownloadJob.objects.filter(pk=running.pk).update(state=JobState.RUNNING, bytes_total=1000, bytes_done=250)
    data = admin_client.get(PROGRESS, {"since": f"{before:.3f}"}).json()
    assert data["overall"] == {"active": 2, "running": 1, "bytes_done": 250, "bytes_total": 1000,
                               "percent": 25.0}
    assert [j["job_id"] for j in data["new_jobs"]] == [queued.pk, running.pk]
    assert data["new_jobs"][0]["label"] == str(queued.variant) and data["jobs"] == []
    later = admin_client.get(PROGRESS, {"since": f"{time.time() + 1:.3f}"}).json()
    assert later["new_jobs"] == []
    assert admin_client.get(PROGRESS, {"since": "yesterday"}).status_code == 400


def test_the_progress_poll_reads_no_manifest_nor_verification_report(admin_client, admin_user, configured):
    """A 5000-file repo's manifest cost ~90 ms per poll to load and parse: the poll, every 1.5 s, must
    not read it (nor the verification report), with or without ids."""
    jobs = make_jobs(3, by=admin_user, bytes_total=100, bytes_done=10)
    for params in ({}, {"ids": ",".join(str(j.pk) for j in jobs)}):
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(PROGRESS, params).status_code == 200
        job_selects = [q["sql"] for q in ctx.captured_queries if 'FROM "downloads_downloadjob"' in q["sql"]
                       and 'INNER JOIN "downloads_modelvariant"' in q["sql"]]
        assert job_selects, ctx.captured_queries
        assert not [sql for sql in job_selects if '"manifest"' in sql or '"verification"' in sql], job_selects
