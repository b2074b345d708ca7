"""A client's whole story through the API: create a variant from a pasted reference with download=true,
the worker runs the job (the real download path against the test Hub), the client polls the job until it
ends and finds the model installed, with the folder to load it from."""

import hashlib
from pathlib import Path

from downloads import tasks
from downloads.models import DownloadJob
from tests.api.conftest import OPERATE, bearer_client, make_user
from tests.modelfiles import make_gguf

TERMINAL = {"succeeded", "failed", "cancelled"}


def test_create_download_poll_and_find_the_model_installed(configured, hub,
                                                           django_capture_on_commit_callbacks):
    quant = make_gguf(metadata={"general.name": "e2e"})
    hub.add_repo("org/chat-GGUF", {"chat-Q4_K_M.gguf": quant, "chat-Q8_0.gguf": make_gguf(),
                                   "README.md": b"# chat"})
    client, token = bearer_client(make_user("service", *OPERATE))

    wanted = {"reference": "hf.co/org/chat-GGUF:Q4_K_M", "download": True}
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit hands the job to the broker
        created = client.post("/api/v1/variants/", wanted, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["variant"]["status"] == "queued" and body["job"]["state"] == "queued"
    job_id, variant_id = body["job"]["id"], body["variant"]["id"]
    assert DownloadJob.objects.get(pk=job_id).dispatched_at is not None  # sent to the task queue

    # The worker's entry point, as django-q2 calls it; the client meanwhile polls the job.
    tasks.run_job(job_id)
    for _ in range(50):
        job = client.get(f"/api/v1/jobs/{job_id}/").json()
        if job["state"] in TERMINAL:
            break
    assert job["state"] == "succeeded", (job["error_code"], job["error_message"])
    assert job["origin"] == "api" and job["requested_by"] == "service"
    assert job["progress"]["bytes_done"] == job["progress"]["bytes_total"] == len(quant)
    assert job["verification"]["ok"] and job["error_code"] == ""

    variant = client.get(f"/api/v1/variants/{variant_id}/").json()
    assert variant["status"] == "installed" and variant["active_job"] is None
    assert variant["last_verification"]["ok"] and variant["last_verification"]["job"] == job_id
    folder = Path(variant["local_path"])
    assert folder.parts[-2] == "snapshots" and folder.parent.parent.name == "models--org--chat-GGUF"
    on_disk = (folder / "chat-Q4_K_M.gguf").read_bytes()
    assert hashlib.sha256(on_disk).digest() == hashlib.sha256(quant).digest()
    assert not (folder / "chat-Q8_0.gguf").exists() and hub.bytes_sent("chat-Q8_0.gguf") == 0
    installed = client.get("/api/v1/variants/?repo=org/chat-GGUF&status=installed").json()
    assert [v["id"] for v in installed["results"]] == [variant_id]
    assert token not in str(job) + str(variant)
