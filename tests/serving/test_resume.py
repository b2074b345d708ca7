"""A connection cut in the middle of a large file: the client resumes with a Range request and ModelHub
answers it with the rest (206), so the client ends with the origin's bytes and nothing is sent twice."""

import hashlib
import socket
import threading

import pytest

from serving.models import PullLog
from tests.modelfiles import make_safetensors
from tests.serving.conftest import install

MiB = 1024 * 1024


class CuttingProxy:
    """A TCP proxy in front of the live server that closes the first connection once it has carried
    `cut_after` bytes towards the client (the middle of the big file's body), then forwards honestly."""

    def __init__(self, upstream_port: int, cut_after: int):
        self.upstream_port, self.cut_after = upstream_port, cut_after
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            cut = self.cuts == 0
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, self.cut_after if cut else None),
                             daemon=True).start()

    def _pipe(self, source, target, limit):
        sent = 0
        try:
            while data := source.recv(256 * 1024):
                if limit is not None and sent + len(data) >= limit:
                    target.sendall(data[:limit - sent])
                    self.cuts += 1
                    break
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()


@pytest.fixture
def big(configured, hub):
    # huggingface_hub writes what it received in 10 MiB chunks: the cut must come after the first one
    # for the retry to ask for a Range (before it, the client starts the file over).
    data = make_safetensors({"w": ("F32", [6 * MiB])})  # 24 MiB
    hub.add_repo("org/big", {"model.safetensors": data, "config.json": b"{}"})
    install("org/big", kind="files")
    return data


def test_hf_hub_download_resumes_a_cut_connection_with_a_range(big, live_server, token, tmp_path,
                                                               session_reset):
    from huggingface_hub import hf_hub_download

    proxy = CuttingProxy(int(live_server.url.rsplit(":", 1)[1]), cut_after=15 * MiB)
    try:
        path = hf_hub_download("org/big", "model.safetensors", endpoint=f"http://127.0.0.1:{proxy.port}/hub",
                               token=token, cache_dir=tmp_path / "client")
    finally:
        proxy.close()
    assert proxy.cuts == 1
    with open(path, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == hashlib.sha256(big).hexdigest()
    pulls = list(PullLog.objects.filter(path="model.safetensors").order_by("id").values_list(
        "status", "range_start", "bytes_served"))
    assert pulls[0] == (200, None, len(big))  # the one that was cut
    assert pulls[1] == (206, 10 * MiB, len(big) - 10 * MiB)
    assert len(pulls) == 2
