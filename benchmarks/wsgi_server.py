"""ModelHub on a threaded stdlib WSGI server (wsgiref + ThreadingMixIn), for the admin benchmark only.

    python -m benchmarks.wsgi_server    # prints "READY <port>", serves on 127.0.0.1 until killed
"""

import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelhub.settings")


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def main() -> None:
    from django.core.wsgi import get_wsgi_application

    httpd = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=ThreadingWSGIServer,
                        handler_class=QuietHandler)
    print(f"READY {httpd.server_port}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
