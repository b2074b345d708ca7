"""A known token runs through every download path; it must not appear in any output ModelHub makes."""

import io
import logging

import pytest
from django.contrib import admin
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import NoReverseMatch, reverse

from downloads.models import DownloadJob, JobEvent, ModelVariant
from settings_app.models import Setting
from tests.jobs import run_download as run
from tests.modelfiles import make_gguf

CANARY = "hf_CanaryTokenMustNeverLeak42"
pytestmark = pytest.mark.django_db




def exercise_download_paths(hub) -> list[str]:
    """Every outcome a download can have, with the canary token in effect; returns command output."""
    hub.add_token(CANARY, user="canary", can_access=["org/gated-ok"])
    hub.add_repo("org/public", {"model.gguf": make_gguf(), "config.json": b"{}"})
    hub.add_repo("org/gated-ok", {"model.gguf": make_gguf()}, gated="manual")
    hub.add_repo("org/gated-no", {"model.gguf": make_gguf()}, gated="manual")
    hub.add_repo("org/flaky", {"model.gguf": make_gguf()})
    run("org/public")
    run("org/gated-ok")
    run("org/gated-no")
    run("org/missing")
    run("org/public", revision="nope")
    hub.fail_next("model.gguf", 500, count=50)
    run("org/flaky")
    hub.clear_faults()
    hub.drop_after("model.gguf", 0, count=50)
    run("org/flaky", name="dropped")
    hub.clear_faults()
    hub.corrupt_next("model.gguf")
    run("org/flaky", name="corrupt")
    outputs = []
    for args in (["download", "org/public", "--wait", "--json"], ["download", "org/gated-no", "--wait"],
                 ["models_status", "--json"], ["models_status"], ["configure"], ["configure", "--json"],
                 ["configure", "--check-token"], ["verify", "--all", "--full", "--json"]):
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(*args, stdout=out, stderr=err)
        except CommandError as exc:
            err.write(str(exc))
        outputs += [out.getvalue(), err.getvalue()]
    return outputs


def rendered_admin_pages(client) -> list[str]:
    pages = []
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        try:
            urls = [reverse(f"{prefix}_changelist")]
        except NoReverseMatch:
            continue
        pks = model.objects.values_list("pk", flat=True)[:50]
        urls += [reverse(f"{prefix}_change", args=[pk]) for pk in pks]
        for url in urls:
            response = client.get(url, follow=True)
            assert response.status_code == 200, url
            pages.append(response.content.decode())
    return pages


def test_token_never_appears_in_logs_rows_pages_or_output(configured, hub, admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    setting = Setting.load()
    setting.set_hf_token(CANARY)
    setting.save()
    outputs = exercise_download_paths(hub)
    assert DownloadJob.objects.filter(error_code="gated_no_access").exists()  # the paths really ran
    assert DownloadJob.objects.filter(state="succeeded").exists()

    haystacks = {
        "logs": caplog.text,
        "command output": "\n".join(outputs),
        "rows": serializers.serialize("json", [*DownloadJob.objects.all(), *JobEvent.objects.all(),
                                               *ModelVariant.objects.all(), *Setting.objects.all()]),
        "admin pages": "\n".join(rendered_admin_pages(admin_client)),
        "request URLs": "\n".join(r.path + "?" + (r.query or "") for r in hub.requests),
    }
    for where, text in haystacks.items():
        assert CANARY not in text, f"token leaked into {where}"
        assert CANARY[-12:] not in text, f"part of the token leaked into {where}"
    assert Setting.load().hf_token_encrypted and CANARY not in Setting.load().hf_token_encrypted


def test_token_from_environment_never_leaks_either(configured, hub, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HF_TOKEN", CANARY)
    outputs = exercise_download_paths(hub)
    assert "env:HF_TOKEN" in "\n".join(outputs) or "HF_TOKEN environment" in "\n".join(outputs)
    text = caplog.text + "\n".join(outputs) + serializers.serialize("json", DownloadJob.objects.all())
    assert CANARY not in text
