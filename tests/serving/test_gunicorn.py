"""/hub under gunicorn, as run.sh serves it: there FileResponse goes out through sendfile(2), which sends
Content-Length bytes from the file descriptor's offset, so whole files, open ranges and bounded ranges
must all come out exact (the test live server reads through Python instead and cannot show this)."""

import hashlib
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests import workers
from tests.modelfiles import make_safetensors
from tests.serving.conftest import hf_env, install, run_hf

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(artifacts_dir, *extra: str, **env: str):
    """gunicorn with run.sh's configuration (modelhub/gunicorn.conf.py), one worker process."""
    port = free_port()
    log = open(artifacts_dir / "serving-gunicorn.log", "ab")  # noqa: SIM115 - the child writes it
    proc = subprocess.Popen([GUNICORN, "-c", "modelhub/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "--workers", "1", "--access-logfile", "-", *extra], cwd=workers.ROOT,
                            env=workers.subprocess_env(**env), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{url}/hub/api/whoami-v2", timeout=5).status_code == 401
        except requests.RequestException:  # not listening yet, or the first request still loading Django
            return False

    try:
        workers.wait_for(up, timeout=30, message="gunicorn to answer")
    except BaseException:
        workers.stop(proc)
        log.close()
        raise
    return proc, url, log


@pytest.fixture
def gunicorn(transactional_db, artifacts_dir):
    proc, url, log = start_gunicorn(artifacts_dir)
    try:
        yield url
    finally:
        workers.stop(proc)
        log.close()


def test_gunicorn_sends_whole_files_and_ranges_exactly(configured, hub, gunicorn, token, client_home):
    data = make_safetensors({"w": ("F32", [1024, 1024])})  # 4 MiB
    hub.add_repo("org/big", {"model.safetensors": data, "config.json": b"{}"})
    install("org/big", kind="files")
    url = f"{gunicorn}/hub/org/big/resolve/main/model.safetensors"
    headers = {"Authorization": f"Bearer {token}"}
    whole = requests.get(url, headers=headers, timeout=30)
    assert whole.status_code == 200 and whole.content == data
    for header, expected in (("bytes=100-199", data[100:200]), ("bytes=3000000-", data[3000000:]),
                             ("bytes=-10", data[-10:]), ("bytes=4194000-4194303", data[4194000:4194304])):
        part = requests.get(url, headers={**headers, "Range": header}, timeout=30)
        assert (part.status_code, part.content == expected) == (206, True), header
        assert int(part.headers["Content-Length"]) == len(expected)
    head = requests.head(url, headers=headers, timeout=30)
    assert head.headers["Content-Length"] == head.headers["X-Linked-Size"] == str(len(data))
    done = run_hf("download", "--quiet", "org/big", env=hf_env(f"{gunicorn}/hub", client_home, token))
    assert done.returncode == 0, done.stderr
    got = Path(done.stdout.strip().splitlines()[-1]) / "model.safetensors"
    assert hashlib.sha256(got.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
