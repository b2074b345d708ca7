"""gunicorn's threaded worker with a second thread pool for /hub, so pulls cannot starve the admin.

A file transfer holds its thread until the last byte is out (sendfile(2) blocks in that thread), and in
gunicorn's gthread worker every request of the process shares one pool: a few dozen teammates pulling
multi-GB files take every thread, and the admin's next page waits for a transfer to end. This worker
sends requests for /hub/ to a pool of their own (MODELHUB_HUB_THREADS threads), the rest to the usual
one (`--threads`), and runs the /hub threads at a lower CPU priority (MODELHUB_HUB_NICE added to their
nice value: on Linux a thread has its own), so under a full CPU the admin's requests run first.

The pool is chosen from the request line, read with MSG_PEEK before a thread takes the connection: a
connection whose first bytes have not arrived yet waits on the worker's poller (as gunicorn does with a
slow client), not in a thread. Over TLS the bytes cannot be peeked: everything goes to the usual pool
(ModelHub runs plain HTTP behind its HTTPS proxy, which also keeps sendfile).
"""

import os
import selectors
import socket
import sys
import threading
import time
from concurrent import futures
from functools import partial

from gunicorn.workers.gthread import ThreadWorker

from modelhub import env

HUB_PREFIXES = (b"GET /hub/", b"HEAD /hub/", b"POST /hub/")
_PEEK = max(len(p) for p in HUB_PREFIXES)


def lower_priority(step: int) -> None:
    """Raise the calling thread's nice value by `step` (Linux: per thread; elsewhere it would be the whole
    process, so nothing is done). An unprivileged process may always lower its own priority."""
    if step <= 0 or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + step))
    except OSError:
        pass  # a sandbox without setpriority: the pools are still separate


def first_bytes(sock: socket.socket) -> bytes | None:
    """The request's first bytes without consuming them; b"" at end of stream; None when nothing has
    arrived yet."""
    try:
        return sock.recv(_PEEK, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""  # reset: the usual pool reads it and closes the connection


class HubThreadWorker(ThreadWorker):
    """gthread with a /hub pool: `--worker-class modelhub.webserver.HubThreadWorker`."""

    def init_process(self):
        self.hub_threads = env.integer("MODELHUB_HUB_THREADS", 32, minimum=1, maximum=1000)
        self.hub_nice = env.integer("MODELHUB_HUB_NICE", 10, minimum=0, maximum=19)
        self.hub_pool = futures.ThreadPoolExecutor(max_workers=self.hub_threads, thread_name_prefix="hub",
                                                   initializer=lower_priority, initargs=(self.hub_nice,))
        # Connections beyond both pools wait on the poller; gunicorn's limit counts them all.
        self.max_keepalived = self.cfg.worker_connections - self.cfg.threads - self.hub_threads
        super().init_process()

    def enqueue_req(self, conn):
        pool = self.tpool
        if not self.cfg.is_ssl and not conn.is_http2:
            head = first_bytes(conn.sock)
            if head is None and not conn.initialized and not conn.data_ready:
                return self._wait_for_first_bytes(conn)
            if head and head.startswith(HUB_PREFIXES):
                pool = self.hub_pool
        fs = pool.submit(self.handle, conn)
        fs.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))

    def _wait_for_first_bytes(self, conn):
        """A new connection with nothing to read yet: on the poller until it has (what gunicorn does with a
        connection that stays silent in a thread), then back through enqueue_req."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive  # gunicorn's timeout for pending connections
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def handle_quit(self, sig, frame):
        self.hub_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)

    def run(self):
        try:
            super().run()
        finally:
            self.hub_pool.shutdown(wait=False)
