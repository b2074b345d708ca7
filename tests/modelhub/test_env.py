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
    result = check(tmp_path, MODELHUB_STORAGE_DIR=str(tmp_path / "models"), MODELHUB_MIN_FREE_SPACE="2GiB",
                   MODELHUB_MAX_CONCURRENT_DOWNLOADS="4", DEBUG="false", LOG_LEVEL="warning",
                   MODELHUB_HUB_ENDPOINT="https://mirror.example.org/")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("env, message", [
    ({"MODELHUB_STORAGE_DIR": ""}, "MODELHUB_STORAGE_DIR is set but empty"),
    ({"MODELHUB_STORAGE_DIR": "/etc"}, "is a system folder"),
    ({"MODELHUB_STORAGE_DIR": "/"}, "is a system folder"),
    ({"MODELHUB_STORAGE_DIR": "."}, "contains the ModelHub code checkout"),
    ({"MODELHUB_MIN_FREE_SPACE": "lots"}, "is not a size"),
    ({"MODELHUB_MAX_CONCURRENT_DOWNLOADS": "two"}, "a whole number from 1"),
    ({"MODELHUB_MAX_CONCURRENT_DOWNLOADS": "0"}, "a whole number from 1"),
    ({"MODELHUB_RETRY_BASE_DELAY": "nan"}, "a number from 0"),
    ({"MODELHUB_PROGRESS_INTERVAL": "0"}, "a number above 0"),
    ({"MODELHUB_LOW_SPEED_TIME": "-5"}, "a number from 1"),
    ({"MODELHUB_HUB_ENDPOINT": "ftp://mirror"}, "an http(s) URL"),
    ({"DEBUG": "maybe"}, "true or false"),
    ({"SECURE_HSTS_SECONDS": "-1"}, "a whole number from 0"),
    ({"MODELHUB_WORKERS": "many"}, "a whole number from 1"),
    ({"LOG_LEVEL": "LOUD"}, "one of DEBUG"),
], ids=["storage-blank", "storage-etc", "storage-root", "storage-checkout", "min-free-space",
        "concurrency-word", "concurrency-zero", "retry-delay-nan", "progress-zero", "low-speed-negative",
        "endpoint-scheme", "debug", "hsts", "workers", "log-level"])
def test_bad_environment_value_stops_start_up_naming_the_variable(tmp_path, env, message):
    result = check(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert next(iter(env)) in result.stderr and message in result.stderr
