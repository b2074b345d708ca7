"""A webhook receiver on 127.0.0.1 for the tests: records every POST (headers and raw body) and answers
with the codes it is told to, in order (the last one repeats)."""

import http.server
import threading
import time


class Receiver:
    def __init__(self, codes=(200,), *, delay: float = 0.0, location: str = ""):
        self.codes, self.delay, self.location = list(codes), delay, location
        self.requests: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "at": time.time()})
                if receiver.delay:
                    time.sleep(receiver.delay)
                code = receiver.codes[min(len(receiver.requests), len(receiver.codes)) - 1]
                self.send_response(code)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                payload = b"ok" if code < 300 else b"receiver says no\x00\x1b[31m <b>bold</b>" + b"x" * 5000
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A URL nobody listens on: a port the kernel just gave us, then closed."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
