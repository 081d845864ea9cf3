"""Test helpers: waiting on conditions with a deadline, real servers on loopback, CSV builders."""

import os
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self, TypeVar

import httpx

from imgopt.adapters.net.guard import address_problem
from imgopt.application.ports import Clock
from imgopt.entrypoints.demo.local_http import QuietHTTPServer
from imgopt.entrypoints.http.server import free_port

__all__ = ["free_port"]

T = TypeVar("T")

_ROOT = Path(__file__).resolve().parents[1]
# The shared test images, never copied into the project: IMGOPT_CORPUS_DIR, else ../shared/corpus.
CORPUS = next(
    (
        Path(candidate)
        for candidate in (
            os.environ.get("IMGOPT_CORPUS_DIR"),
            _ROOT.parent / "shared" / "corpus",
            "/work/shared/corpus",
        )
        if candidate and (Path(candidate) / "SOURCES.md").is_file()
    ),
    _ROOT.parent / "shared" / "corpus",
)


def corpus_bytes(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        raise AssertionError(f"test image {name} not found in {CORPUS}; set IMGOPT_CORPUS_DIR to the corpus folder")
    return path.read_bytes()


HEADER = "S. No.,Product Name,Input Image Urls\n"


def wait_for(condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, message: str = "") -> T:
    """Poll `condition` until it returns something truthy; fail with `message` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or condition}")
        time.sleep(interval)


# Every way of writing a host that reaches something other than the public internet, and why it is refused.
NON_PUBLIC_HOSTS = {
    "2130706433": "127.0.0.1 is a loopback",
    "0x7f.0.0.1": "127.0.0.1 is a loopback",
    "0177.0.0.1": "127.0.0.1 is a loopback",
    "127.1": "127.0.0.1 is a loopback",
    "127.0.0.2": "127.0.0.2 is a loopback",
    "0.0.0.0": "0.0.0.0 is an unspecified",
    "::1": "::1 is a loopback",
    "::": ":: is an unspecified",
    "::ffff:127.0.0.1": "loopback address inside the IPv6 address",
    "::ffff:7f00:1": "loopback address inside the IPv6 address",
    "10.1.2.3": "10.1.2.3 is a private",
    "172.16.0.1": "172.16.0.1 is a private",
    "172.31.255.254": "172.31.255.254 is a private",
    "192.168.1.1": "192.168.1.1 is a private",
    "100.64.0.1": "100.64.0.1 is not a public address",
    "169.254.1.1": "169.254.1.1 is a link-local",
    "fe80::1": "fe80::1 is a link-local",
    "fd12:3456::1": "fd12:3456::1 is a private",
    "169.254.169.254": "169.254.169.254 is a cloud metadata address",
    "::ffff:169.254.169.254": "is a cloud metadata address",
    "fd00:ec2::254": "is a cloud metadata address",
    "224.0.0.1": "224.0.0.1 is a multicast",
    "ff02::1": "ff02::1 is a multicast",
    "240.0.0.1": "240.0.0.1 is a",
    "255.255.255.255": "255.255.255.255 is a",
    "64:ff9b::7f00:1": "loopback address inside the IPv6 address 64:ff9b::7f00:1",
    "64:ff9b::a00:1": "10.0.0.1 is a private address inside",
    "2002:7f00:1::": "loopback address inside the IPv6 address 2002:7f00:1::",
    "2002:c0a8:101::": "192.168.1.1 is a private address inside",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "192.0.2.45 is a private address inside",
    "localhost": "is a loopback",
    "LocalHost": "is a loopback",
    "localhost.": "is a loopback",
}


def url_to(host: str, port: int, path: str = "/") -> str:
    return f"http://[{host}]:{port}{path}" if ":" in host else f"http://{host}:{port}{path}"


def loopback_is_public(address: str) -> str | None:
    """An address policy for tests: 127.0.0.1 stands in for the internet; other addresses are judged as usual."""
    return None if address == "127.0.0.1" else address_problem(address)


class ScriptedResolver:
    """Answers the n-th lookup with the n-th list of addresses (the last one repeats) and records every lookup."""

    def __init__(self, *answers: list[str]) -> None:
        self._answers = answers
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int, **kwargs: object) -> list:
        addresses = self._answers[min(len(self.lookups), len(self._answers) - 1)]
        self.lookups.append(host)
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]


def process_due(use_cases) -> int:
    """What a worker does, on this thread: claim, process, record, until no image is due; how many were recorded."""
    recorded = 0
    while jobs := use_cases.claim_images()(10):
        recorded += len(use_cases.record_outcomes()([use_cases.process_image()(job) for job in jobs]))
    return recorded


class ShiftedClock(Clock):
    """The system's time plus however far a test has moved it on (`offset`): retries fall due without waiting."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def claim_in_lockstep(claimers: dict[str, Callable[[int], list]], rounds: int, size: int) -> dict[str, list[int]]:
    """Every claimer claims `size` jobs at the same moment, `rounds` times, each on a thread; the job ids each got."""
    claimed: dict[str, list[int]] = {worker: [] for worker in claimers}
    barrier = threading.Barrier(len(claimers))

    def drain(worker: str) -> None:
        for _ in range(rounds):
            barrier.wait(timeout=60)
            claimed[worker] += [job.id for job in claimers[worker](size)]

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in claimers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return claimed


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


class Reply:
    """One canned HTTP response; with `gate`, it waits (up to a minute) until the gate is opened.

    With an `etag` (or `last_modified`) it sends that validator, and answers a request that asks
    with it (If-None-Match, If-Modified-Since) 304 Not Modified, without the body, as origins do.
    """

    def __init__(
        self,
        body: bytes = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        gate: threading.Event | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        self.body = body
        self.status = status
        self.headers = headers or {}
        self.delay = delay
        self.chunk_delay = chunk_delay
        self.gate = gate
        self.etag = etag
        self.last_modified = last_modified
        if etag:
            self.headers["ETag"] = etag
        if last_modified:
            self.headers["Last-Modified"] = last_modified

    def to(self, headers: httpx.Headers) -> "Reply":
        """The reply to a request with these headers: 304 when it asks with this reply's validator."""
        unchanged = (self.etag and headers.get("if-none-match") == self.etag) or (
            self.last_modified and headers.get("if-modified-since") == self.last_modified
        )
        return Reply(b"", 304, dict(self.headers)) if unchanged else self


class Recorded:
    def __init__(self, method: str, path: str, headers: httpx.Headers, body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


class LoopbackServer:
    """A socketserver on a loopback port, serving on a thread of its own while its `with` block runs."""

    scheme = "http"
    host = "127.0.0.1"

    def _serve(self, server: socketserver.BaseServer) -> None:
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class LocalServer(LoopbackServer):
    """A real HTTP server on a loopback port with scripted replies: an image origin or a webhook receiver.

    `route(path, *replies)` answers the n-th request to `path` with the n-th reply (the last one
    repeats). Every request is recorded in `requests`, in arrival order; `connections` counts the
    connections opened to it.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        import http.server

        self._routes: dict[str, list[Reply]] = {}
        self._hits: dict[str, int] = {}
        self.requests: list[Recorded] = []
        self.connections = 0
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = httpx.Headers(list(self.headers.items()))
                reply = server._take(self.command, self.path, headers, body).to(headers)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.gate is not None:
                    reply.gate.wait(60)
                self.send_response(reply.status)
                headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command == "HEAD":
                    return
                try:
                    if reply.chunk_delay:
                        for start in range(0, len(reply.body), 1024):
                            self.wfile.write(reply.body[start : start + 1024])
                            self.wfile.flush()
                            time.sleep(reply.chunk_delay)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = do_PUT = _handle

        http_server = QuietHTTPServer((host, port), Handler)
        if tls is not None:
            http_server.socket = tls.wrap_socket(http_server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.host = host
        self._serve(http_server)

    def route(self, path: str, *replies: Reply) -> str:
        with self._lock:
            self._routes[path] = list(replies)
            self._hits[path] = 0
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path == path)

    def _take(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        with self._lock:
            self.requests.append(Recorded(method, path, headers, body))
            replies = self._routes.get(path)
            if not replies:
                return Reply(b"not found", 404)
            index = min(self._hits[path], len(replies) - 1)
            self._hits[path] += 1
            return replies[index]


class RawServer(LoopbackServer):
    """A loopback TCP server that answers every connection with the same bytes, however far from HTTP they are.

    With `drip`, the bytes go out one at a time, `drip` seconds apart, until the client hangs up.
    """

    def __init__(self, reply: bytes, drip: float = 0.0) -> None:
        server = self
        self.connections = 0

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server.connections += 1
                self.request.recv(65536)
                if not drip:
                    self.request.sendall(reply)
                    return
                try:
                    for byte in reply:
                        self.request.sendall(bytes([byte]))
                        time.sleep(drip)
                except OSError:
                    pass

        self._serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler))
