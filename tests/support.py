"""Test helpers: waiting on conditions with a deadline, real servers on loopback, CSV builders."""

import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import uvicorn

from imgopt.adapters.net.guard import address_problem

T = TypeVar("T")

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    """An ASGI app served by uvicorn on a loopback port, in a thread, for as long as the context lasts."""

    def __init__(self, app, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        wait_for(lambda: self.server.started, message="the server to start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)


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


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


class Reply:
    """One canned HTTP response."""

    def __init__(
        self,
        body: bytes = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
    ) -> None:
        self.body = body
        self.status = status
        self.headers = headers or {}
        self.delay = delay
        self.chunk_delay = chunk_delay


class Recorded:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


class LocalServer:
    """A real HTTP server on a loopback port with scripted replies: an image origin or a webhook receiver.

    `route(path, *replies)` answers the n-th request to `path` with the n-th reply (the last one
    repeats). Every request is recorded in `requests`, in arrival order.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        import http.server

        self._routes: dict[str, list[Reply]] = {}
        self._hits: dict[str, int] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = server._take(self.command, self.path, dict(self.headers.items()), body)
                if reply.delay:
                    time.sleep(reply.delay)
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

        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def route(self, path: str, *replies: Reply) -> str:
        with self._lock:
            self._routes[path] = list(replies)
            self._hits[path] = 0
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

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

    def __enter__(self) -> "LocalServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class RawServer:
    """A loopback TCP server that answers every connection with the same bytes, however far from HTTP they are."""

    def __init__(self, reply: bytes) -> None:
        server = self
        self.connections = 0

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server.connections += 1
                self.request.recv(65536)
                self.request.sendall(reply)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "RawServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
