"""downloads.signals: sent once per end of a job and once per change of a variant's status, after the
transition commits (a receiver reading the database sees the new state)."""

import pytest
from django.dispatch import receiver

from downloads import services
from downloads.models import DownloadJob, ModelVariant
from downloads.signals import download_finished, variant_status_changed
from tests.jobs import run_download, start_job
from tests.storage_helpers import model_files


@pytest.fixture
def heard():
    got = {"finished": [], "status": []}

    @receiver(download_finished)
    def on_finished(sender, job, **kwargs):
        got["finished"].append((job.pk, DownloadJob.objects.get(pk=job.pk).state))

    @receiver(variant_status_changed)
    def on_status(sender, variant, previous, status, **kwargs):
        got["status"].append((previous, status, ModelVariant.objects.get(pk=variant.pk).status))

    yield got
    download_finished.disconnect(on_finished)
    variant_status_changed.disconnect(on_status)


@pytest.mark.django_db(transaction=True)
def test_a_download_sends_each_status_and_one_finish(configured, hub, heard):
    hub.add_repo("org/sig", model_files())
    job = run_download("org/sig")
    assert job.state == "succeeded"
    assert heard["finished"] == [(job.pk, "succeeded")]
    # (previous, new, what the database said when the receiver ran)
    assert heard["status"] == [("not_downloaded", "queued", "queued"),
                               ("queued", "downloading", "downloading"),
                               ("downloading", "installed", "installed")]


@pytest.mark.django_db(transaction=True)
def test_failures_and_cancels_finish_too(configured, hub, heard):
    failed = run_download("org/absent")
    assert failed.state == "failed"
    queued = start_job("org/sig-cancel")
    services.cancel(queued)
    assert heard["finished"] == [(failed.pk, "failed"), (queued.pk, "cancelled")]
    assert ("queued", "failed", "failed") in heard["status"]
    assert heard["status"][-1] == ("queued", "not_downloaded", "not_downloaded")
