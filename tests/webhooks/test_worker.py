"""Through the real broker: a qcluster worker (the ORM broker on the test database) runs the download, the
signal fires in the worker, and the same cluster POSTs the signed delivery to a receiver on 127.0.0.1."""

import json

import pytest

from downloads import services
from tests import workers
from tests.storage_helpers import model_files
from tests.webhooks.conftest import point_webhooks_at
from tests.webhooks.test_delivery import verified
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_delivers_the_end_of_the_job_it_ran(configured, hub, receiver, artifacts_dir):
    point_webhooks_at(receiver.url)
    hub.add_repo("org/by-worker", model_files())
    variant, _ = services.get_or_create_variant(repo_id="org/by-worker")
    job, _ = services.enqueue(variant)
    cluster = workers.start_qcluster(log_path=artifacts_dir / "webhooks-qcluster.log")
    try:
        workers.wait_for(lambda: Delivery.objects.filter(event="job.finished", state="succeeded").exists(),
                         timeout=90, message="the job.finished delivery")
    finally:
        workers.stop(cluster)
    finished = [r for r in receiver.requests if r["headers"]["X-ModelHub-Event"] == "job.finished"]
    payload = verified(finished[0])
    assert payload["job"]["id"] == job.pk and payload["job"]["state"] == "succeeded"
    assert payload["variant"]["status"] == "installed" and payload["variant"]["local_path"]
    assert json.loads(Delivery.objects.get(event="job.finished").body) == payload
