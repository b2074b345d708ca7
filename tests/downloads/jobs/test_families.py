"""No false errors, end to end: one real repo of each family (its file list and model card metadata
from the corpus, small valid files), downloaded with default options through the test Hub, ends
installed under the kind ModelHub infers; a failure that another attempt cannot fix runs once."""

import pytest

from downloads import services
from downloads.models import DownloadJob, JobState, ModelVariant, VariantStatus
from tests.corpus import by_family, content, facts, selected
from tests.jobs import run_download

pytestmark = pytest.mark.django_db
FAMILIES = by_family()
KIND = {"llm-safetensors": "text", "gguf": "text", "gguf-split": "text", "sentence-transformers": "embedding",
        "bert": "text", "whisper": "speech", "piper": "voice", "diffusers": "diffusers", "vision": "vision",
        "mlx": "text", "onnx": "embedding", "dataset": "dataset", "translation": "translation",
        "audio-tts": "voice", "peft": "adapter", "quantized-gptq-awq": "text"}


def serve(hub, entry):
    chosen = selected(entry)
    files = {p: content(entry, p, chosen) for p in entry["files"]}
    hub.add_repo(entry["repo_id"], files, repo_type=entry["repo_type"])
    hub.set_card(entry["repo_id"], repo_type=entry["repo_type"], **facts(entry))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_repo_of_every_family_installs_with_default_options(configured, hub, family):
    entry = FAMILIES[family]
    serve(hub, entry)
    job = run_download(entry["repo_id"], repo_type=entry["repo_type"], include=entry.get("selection") or [])
    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message)
    variant = ModelVariant.objects.get(pk=job.variant_id)
    assert variant.kind == "auto" and variant.status == VariantStatus.INSTALLED
    assert variant.installed_kind["kind"] == KIND[family], variant.installed_kind
    assert job.verification["kind"] == variant.installed_kind and job.verification["kind"]["reason"]
    assert set(variant.installed_files) == set(selected(entry))


def test_an_incomplete_selection_fails_once_and_is_not_retried(configured, hub):
    entry = FAMILIES["diffusers"]
    serve(hub, entry)
    # the pipeline without its unet: the files are fine, the selection is not a pipeline
    job = run_download(entry["repo_id"], include=entry["selection"], exclude=["unet/*"])
    assert job.error_code == "incomplete"
    assert "unet/" in job.error_message
    assert services.requeue_if_transient(job, run_here=True) is None
    assert DownloadJob.objects.filter(variant_id=job.variant_id).count() == 1
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.FAILED


def test_bytes_a_new_download_can_fix_are_retried(configured, hub):
    entry = FAMILIES["gguf"]
    serve(hub, entry)
    hub.corrupt_next("*.gguf", count=10)  # every attempt within the job gets flipped bytes
    job = run_download(entry["repo_id"], include=entry["selection"])
    assert job.error_code == "verification_failed"
    again = services.requeue_if_transient(job, run_here=True)
    assert again is not None and again.attempt == 2
