"""Bad environment values stop Django at start-up with a message naming the variable, instead of a
traceback at the first download or command that reads them."""

import os
import subprocess
import sys

import pytest

from tests.workers import ROOT


def check(tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8",
             "MODELHUB_VAR_DIR": str(tmp_path / "var"), **env}
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=120)


def test_good_environment_starts(tmp_path):
    result = check(tmp_path, MODELHUB_STORAGE_DIR=str(tmp_path / "models"))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("env, message", [
    ({"MODELHUB_STORAGE_DIR": ""}, "MODELHUB_STORAGE_DIR is set but empty"),
    ({"MODELHUB_STORAGE_DIR": "/etc"}, "is a system folder"),
    ({"MODELHUB_STORAGE_DIR": "/"}, "is a system folder"),
    ({"MODELHUB_STORAGE_DIR": "."}, "contains the ModelHub code checkout"),
], ids=["storage-blank", "storage-etc", "storage-root", "storage-checkout"])
def test_bad_environment_value_stops_start_up_naming_the_variable(tmp_path, env, message):
    result = check(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert next(iter(env)) in result.stderr and message in result.stderr
