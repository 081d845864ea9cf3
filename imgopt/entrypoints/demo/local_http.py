"""Tiny loopback HTTP servers: the demo's image origin and webhook receiver (the benchmarks build on them too)."""

import http.server
import sys
import threading


class QuietHTTPServer(http.server.ThreadingHTTPServer):
    """A threaded HTTP server that takes a client hanging up mid-answer in its stride."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """A threaded HTTP/1.1 server on a free loopback port, serving while the `with` block runs."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self._server = QuietHTTPServer(("127.0.0.1", 0), handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """Keep-alive, no access log, and `reply` for a whole answer in one call."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ImageOrigin(LoopbackServer):
    """Serves fixed bytes by path, as a shop's image server would."""

    def __init__(self, files: dict[str, tuple[bytes, str]]) -> None:
        class Handler(QuietHandler):
            def do_GET(self) -> None:
                found = files.get(self.path)
                self.reply(*(200, *found) if found else (404, b"not found"))

        super().__init__(Handler)


class WebhookReceiver(LoopbackServer):
    """Keeps every POST it gets (headers and body) and answers 204; `received` is set on the first one."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.received = threading.Event()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.received.set()
                self.reply(204)

        super().__init__(Handler)
