"""Issue 14, small things: the progress endpoint, polled every 1.5 s by every open admin page, writes no
access-log line per poll, under gunicorn (as run.sh serves) and under runserver; other requests, and a
poll that fails, are still logged."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import Client
from django.urls import reverse

from modelhub.quiet_polls import POLL_SUFFIX, is_quiet
from tests import workers

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_suffix_names_the_progress_endpoint():
    assert reverse("admin:downloads_downloadjob_progress").endswith(POLL_SUFFIX)
    assert is_quiet("/admin/downloads/downloadjob/progress/?since=1", "200 OK")
    assert not is_quiet("/admin/downloads/downloadjob/progress/", "302")
    assert not is_quiet("/admin/downloads/downloadjob/", "200")


@pytest.fixture
def session_cookie(transactional_db, django_user_model) -> str:
    """A logged-in admin's session, in the database the server process reads."""
    user = django_user_model.objects.create_superuser("poller", "p@example.org", "pw-Secret-123")
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def serve(command: list[str], log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(log_path, "wb")  # noqa: SIM115 - the child writes it
    proc = subprocess.Popen([*command, f"127.0.0.1:{port}"], cwd=workers.ROOT, env=workers.subprocess_env(),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=5).status_code in (200, 503)
        except requests.RequestException:
            return False

    try:
        workers.wait_for(up, timeout=40, message="the web server to answer")
    except BaseException:
        workers.stop(proc)
        raise
    return proc, url


def polls_are_not_logged(url: str, cookie: str, log_path: Path) -> None:
    cookies = {"sessionid": cookie}
    poll = f"{url}/admin/downloads/downloadjob/progress/"
    for _ in range(3):
        assert requests.get(poll, cookies=cookies, timeout=10).status_code == 200
    assert requests.get(poll, timeout=10, allow_redirects=False).status_code == 302  # not logged in
    assert requests.get(f"{url}/admin/", cookies=cookies, timeout=10).status_code == 200
    workers.wait_for(lambda: "GET /admin/ " in log_path.read_text(errors="replace"), timeout=10,
                     message="the admin page's access-log line")
    time.sleep(0.2)  # anything else still in flight lands too
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if POLL_SUFFIX in line]
    assert len(lines) == 1 and "302" in lines[0], lines  # only the failed (redirected) poll


@pytest.mark.django_db(transaction=True)
def test_gunicorn_logs_no_line_per_progress_poll(session_cookie, configured, artifacts_dir):
    log_path = artifacts_dir / "quiet-polls-gunicorn.log"
    # run.sh's configuration (its worker class sends /hub to a pool of its own), one process
    proc, url = serve([GUNICORN, "-c", "modelhub/gunicorn.conf.py", "--workers", "1", "--access-logfile", "-",
                       "--bind"], log_path)
    try:
        polls_are_not_logged(url, session_cookie, log_path)
    finally:
        workers.stop(proc)


@pytest.mark.django_db(transaction=True)
def test_runserver_logs_no_line_per_progress_poll(session_cookie, configured, artifacts_dir):
    log_path = artifacts_dir / "quiet-polls-runserver.log"
    proc, url = serve([sys.executable, str(workers.ROOT / "manage.py"), "runserver", "--noreload",
                       "--skip-checks"], log_path)
    try:
        polls_are_not_logged(url, session_cookie, log_path)
    finally:
        workers.stop(proc)
