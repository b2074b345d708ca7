"""Pulls cannot starve the admin: under run.sh's gunicorn (modelhub.webserver's worker) /hub requests run in
a thread pool of their own at a lower CPU priority. Clients that stop reading hold their /hub threads in
sendfile(2) for as long as they like; the admin still answers. With gunicorn's plain gthread worker and
the same number of threads, it does not (the reason for the worker)."""

import hashlib
import os
import platform
import socket
import time
from pathlib import Path

import pytest
import requests

from tests import workers
from tests.modelfiles import make_safetensors
from tests.serving.conftest import install
from tests.serving.test_gunicorn import start_gunicorn

STALLED = 4  # clients that never read: more than the /hub pool and the admin's pool each hold


def stalled_pull(url: str, path: str, token: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                 f"\r\n".encode())
    return sock


def read_body(sock: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the headers"
        head += chunk
    head, _, body = head.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    data = bytearray(body)
    while len(data) < length:
        chunk = sock.recv(1 << 20)
        assert chunk, "connection closed before the whole body"
        data += chunk
    return bytes(data)


def thread_nice_values(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    values = []
    for tid in os.listdir(f"/proc/{children[0]}/task"):
        stat = Path(f"/proc/{children[0]}/task/{tid}/stat").read_text()
        values.append(int(stat.rsplit(")", 1)[1].split()[16]))  # field 19: nice
    return values


SENDFILE_SYSCALL = {"x86_64": 40, "aarch64": 71}.get(platform.machine())


def threads_in_sendfile(master_pid: int) -> int:
    """How many of the worker's threads are blocked in sendfile(2) right now (/proc/<tid>/syscall)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    count = 0
    for tid in os.listdir(f"/proc/{children[0]}/task"):
        try:
            number = Path(f"/proc/{children[0]}/task/{tid}/syscall").read_text().split()[0]
        except (OSError, IndexError):
            continue
        count += number == str(SENDFILE_SYSCALL)
    return count


@pytest.mark.parametrize("worker", ["modelhub", "gthread"])
def test_stalled_pulls_do_not_take_the_admins_threads(transactional_db, configured, hub, token, artifacts_dir,
                                                    worker):
    data = make_safetensors({"w": ("F32", [2048, 4096])})  # 32 MiB: more than the socket buffers hold
    hub.add_repo("org/big", {"model.safetensors": data, "config.json": b"{}"})
    install("org/big", kind="files")
    plain = ("--worker-class", "gthread") if worker == "gthread" else ()
    proc, url, log = start_gunicorn(artifacts_dir, *plain, MODELHUB_WEB_THREADS="2", MODELHUB_HUB_THREADS="2")
    pulls = []
    try:
        pulls = [stalled_pull(url, "/hub/org/big/resolve/main/model.safetensors", token)
                 for _ in range(STALLED)]
        if worker == "gthread":  # every thread is in a transfer that never ends: the admin waits
            with pytest.raises(requests.Timeout):
                requests.get(f"{url}/admin/login/", timeout=3)
            return
        # The pulls have reached their threads (2 in sendfile, 2 queued behind them) ...
        workers.wait_for(lambda: sorted(thread_nice_values(proc.pid)).count(10) >= 2, timeout=30,
                         message="the /hub threads to start, at nice 10")
        if SENDFILE_SYSCALL is not None:  # zero-copy: the kernel sends the blob, Python holds no bytes
            workers.wait_for(lambda: threads_in_sendfile(proc.pid) >= 2, timeout=30,
                             message="the stalled pulls to block in sendfile(2)")
        # ... and the admin answers regardless, from threads at the usual priority.
        page = requests.get(f"{url}/admin/login/", timeout=20)
        assert page.status_code == 200 and "Log in" in page.text
    finally:
        for sock in pulls[1:]:  # hanging up ends their transfers: the first is served, whatever its turn
            sock.close()
        body = read_body(pulls[0]) if pulls and worker != "gthread" else None
        for sock in pulls[:1]:
            sock.close()
        workers.stop(proc)
        log.close()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_request_line_that_comes_late_is_served(transactional_db, configured, artifacts_dir):
    """A connection with nothing to read waits on the poller (not in a thread) until its first bytes come,
    then goes to the pool they name: /hub's or the admin's."""
    proc, url, log = start_gunicorn(artifacts_dir)
    host, port = url.removeprefix("http://").split(":")
    try:
        for path, status in (("/hub/api/whoami-v2", b"401"), ("/admin/login/", b"200")):
            with socket.create_connection((host, int(port)), timeout=20) as sock:
                time.sleep(0.5)  # connected, silent: the worker has accepted it by now
                request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
                sock.sendall(request.encode())
                assert sock.recv(12).split(b" ")[1] == status, path
    finally:
        workers.stop(proc)
        log.close()


def test_run_sh_config_keeps_sendfile_on():
    """gunicorn takes any value of its `sendfile` setting, True included, as --no-sendfile: files would then
    be copied through Python, 512 KiB at a time, holding the GIL between the admin's requests."""
    import runpy

    from gunicorn.config import Config

    cfg = Config()
    for name, value in runpy.run_path(str(workers.ROOT / "modelhub" / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    assert cfg.worker_class_str == "modelhub.webserver.HubThreadWorker"
    assert cfg.sendfile is True and not cfg.is_ssl
