"""The outside world of an end-to-end run, on loopback in the bench process: an image origin and a webhook receiver."""

import http.server
import threading
import time
from dataclasses import dataclass


class _Server:
    """A threading HTTP/1.1 server (keep-alive, one thread per connection) while the block runs."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="bench-http", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Origin(_Server):
    """Serves in-memory JPEGs at `/<anything>/<name>`: the last path segment picks the file.

    The prefix lets every run ask for its images under URLs never asked before (so nothing in
    the service could answer from a cache keyed by URL) while the bytes stay the same ones the
    reference works on.
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.requests = 0
        origin = self

        class Handler(_Handler):
            def do_GET(self) -> None:
                origin.requests += 1
                data = files.get(self.path.rsplit("/", 1)[-1])
                self.reply(*(200, data, "image/jpeg") if data is not None else (404, b"not found"))

        super().__init__(Handler)


@dataclass(frozen=True)
class Arrival:
    """One webhook POST: when its body had been read (perf_counter and wall clock), its headers and body."""

    at: float
    wall: float
    headers: dict[str, str]
    body: bytes


class Receiver(_Server):
    """Answers every POST 204 and keeps it, with the moment its body had been read; `wait` for the next one."""

    def __init__(self) -> None:
        self._arrivals: list[Arrival] = []
        self._condition = threading.Condition()
        receiver = self

        class Handler(_Handler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrival = Arrival(
                    time.perf_counter(), time.time(), {k.lower(): v for k, v in self.headers.items()}, body
                )
                with receiver._condition:
                    receiver._arrivals.append(arrival)
                    receiver._condition.notify_all()
                self.reply(204)

        super().__init__(Handler)

    def wait(self, count: int, timeout: float) -> Arrival | None:
        """The `count`-th arrival since the start (1-based), once it has come; None after `timeout` seconds."""
        with self._condition:
            if not self._condition.wait_for(lambda: len(self._arrivals) >= count, timeout):
                return None
            return self._arrivals[count - 1]

    @property
    def count(self) -> int:
        with self._condition:
            return len(self._arrivals)
