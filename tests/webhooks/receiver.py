"""A webhook receiver on 127.0.0.1 for the tests: records every POST (headers and raw body) and answers
with the codes it is told to, in order (the last one repeats)."""

import http.server
import threading
import time


class Receiver:
    def __init__(self, codes=(200,), *, delay: float = 0.0, location: str = "", trickle: float = 0.0):
        self.codes, self.delay, self.location, self.trickle = list(codes), delay, location, trickle
        self.requests: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "at": time.time()})
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.trickle:  # a byte of header at a time, each well within any read timeout
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Pad: ")
                        for _ in range(600):
                            time.sleep(receiver.trickle)
                            self.wfile.write(b"a")
                    except OSError:
                        pass  # the sender hung up: what the test wants
                    self.close_connection = True
                    return
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

    def with_tls(self, folder) -> "Receiver":
        """Serve https with a self-signed certificate (which a sender must refuse)."""
        import ssl

        cert, key = self_signed(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = self.url.replace("http://", "https://")
        return self

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


def self_signed(folder) -> tuple[str, str]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return cert_path, key_path
