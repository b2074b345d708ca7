"""`download --json`: a failed job's code and guidance, and bad input refused before anything is queued."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from downloads.models import DownloadJob
from tests.modelfiles import make_gguf

pytestmark = pytest.mark.django_db


def test_download_json_carries_code_and_guidance(configured, hub, capsys):
    hub.add_repo("org/gated", {"model.gguf": make_gguf()}, gated="manual")
    with pytest.raises(CommandError) as exc:
        call_command("download", "org/gated", "--wait", "--json")
    assert exc.value.returncode == 1
    out = json.loads(capsys.readouterr().out)
    job = DownloadJob.objects.get(pk=out["job_id"])
    assert out["error_code"] == "gated_no_token" == job.error_code
    assert out["guidance"] == job.guidance


@pytest.mark.parametrize("args, fragment", [
    (["not a repo"], "not a repo id"),
    (["org/ok", "--revision", "bad..rev"], "not a valid branch"),
    (["org/ok", "--include", "../x"], "relative glob"),
    (["org/ok", "--limit-rate", "fast"], "is not a size"),
    (["org/ok", "--include", "[abc"], "unbalanced"),
])
def test_bad_input_is_refused_before_anything_is_queued(configured, capsys, args, fragment):
    with pytest.raises(CommandError) as exc:
        call_command("download", *args, "--json")
    assert exc.value.returncode == 2
    out = json.loads(capsys.readouterr().out)
    assert out["error_code"] == "invalid_input" and fragment in out["error_message"]
    assert DownloadJob.objects.count() == 0
