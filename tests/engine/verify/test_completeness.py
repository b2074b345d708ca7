"""A selection is installed only when it satisfies its kind's completeness rule, default or configured."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from downloads.models import JobState, ModelVariant, VariantStatus
from settings_app.models import Setting
from tests.jobs import run_download as run
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.django_db


def test_weights_less_selection_is_never_installed_and_names_what_is_missing(configured, hub):
    hub.add_repo("org/nofiles", {"README.md": b"# just a card", "config.json": b"{}"})
    job = run("org/nofiles")
    assert job.error_code == "incomplete"
    assert not job.verification["completeness"]["ok"]
    assert "*.safetensors" in job.verification["completeness"]["detail"]
    assert "not a complete" in job.guidance
    variant = ModelVariant.objects.get(pk=job.variant_id)
    assert variant.status == VariantStatus.FAILED and "*.safetensors" in variant.problem


def test_gguf_alone_is_a_complete_text_model(configured, hub):
    hub.add_repo("org/gguf", {"m-Q4_0.gguf": make_gguf()})
    job = run("org/gguf")
    assert job.state == JobState.SUCCEEDED, job.error_message
    assert ModelVariant.objects.get(pk=job.variant_id).status == VariantStatus.INSTALLED


def test_completeness_rule_override_from_configure_decides_installed(configured, hub):
    call_command("configure", "--completeness-rules", '{"voice": [["*.onnx", "*.onnx.json"]]}')
    hub.add_repo("org/voice-half", {"en.onnx": b"\x08\x01onnx-bytes" * 200})
    half = run("org/voice-half", kind="voice")
    assert half.error_code == "incomplete"
    assert "*.onnx.json" in half.verification["completeness"]["detail"]
    hub.add_repo("org/voice", {"en.onnx": b"\x08\x01onnx-bytes" * 200, "en.onnx.json": b'{"audio": {}}'})
    assert run("org/voice", kind="voice").state == JobState.SUCCEEDED


@pytest.mark.parametrize("bad", ['{"voice": "*.onnx"}', '{"voice": [[]]}', "[1]", "{not json"])
def test_malformed_completeness_rules_are_refused(configured, bad):
    with pytest.raises(CommandError) as exc:
        call_command("configure", "--completeness-rules", bad)
    assert exc.value.returncode == 2
    assert Setting.load().completeness_rules == {}
