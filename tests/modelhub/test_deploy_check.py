"""`manage.py check --deploy --fail-level WARNING` passes with the production settings we document, and
fails when one of them is missing, so a deployment that forgets one is caught before it serves."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.workers import ROOT

# The README's production environment (behind an HTTPS proxy), scaled out on PostgreSQL and Redis.
# `check` connects to neither, so the hosts need not exist.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),  # 67 characters
    "ALLOWED_HOSTS": "modelhub.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://modelhub.example.org",
    "SECURE_PROXY_SSL_HEADER": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "DATABASE_URL": "postgres://modelhub:secret@db.example.org:5432/modelhub",
    "REDIS_URL": "redis://redis.example.org:6379/0",
}


def deploy_check(tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    # A clean environment: nothing from the developer's shell (DEBUG=1, a dev DATABASE_URL) may leak in.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "MODELHUB_VAR_DIR": str(tmp_path / "var"), **PRODUCTION, **overrides}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_deploy_check_passes_with_the_documented_production_settings(tmp_path):
    result = deploy_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("overrides, warning", [
    ({"DEBUG": "true"}, "security.W018"),
    ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
    ({"SECURE_SSL_REDIRECT": "false"}, "security.W008"),
    ({"SECRET_KEY": "too-short-to-be-secret"}, "security.W009"),
    ({"SESSION_COOKIE_SECURE": "false"}, "security.W012"),
    ({"CSRF_COOKIE_SECURE": "false"}, "security.W016"),
], ids=["debug", "no-hsts", "no-ssl-redirect", "weak-secret-key", "session-cookie", "csrf-cookie"])
def test_deploy_check_fails_when_a_production_setting_is_missing(tmp_path, overrides, warning):
    result = deploy_check(tmp_path, **overrides)
    assert result.returncode != 0
    assert warning in result.stdout + result.stderr
