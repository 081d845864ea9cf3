"""Serve the API from a background thread: for the demo, the tests, and services that embed imgopt."""

import random
import socket
import threading
import time
from pathlib import Path

import uvicorn

# Where free ports are looked for on Linux: under the range it hands to outgoing connections, above
# the well-known services (and the usual development servers' 8000-9999).
_LOWEST_CHOSEN = 10_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_CHOICES = random.SystemRandom()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing is bound to, for a server to bind soon after.

    Between the choice and that bind another socket may take it: an outgoing connection is given a
    port of the system's ephemeral range, as `bind(0)` is. So where that range is known (Linux), the
    port is drawn at random below it, where connections never land; else the system picks one.
    """
    lowest_ephemeral = _lowest_ephemeral_port()
    if lowest_ephemeral > _LOWEST_CHOSEN:
        for _ in range(64):
            port = _CHOICES.randrange(_LOWEST_CHOSEN, lowest_ephemeral)
            if _bindable(host, port):
                return port
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _lowest_ephemeral_port() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


class BackgroundServer:
    """An ASGI app served by uvicorn in a daemon thread while the context lasts."""

    def __init__(self, app, host: str = "127.0.0.1", port: int | None = None, log_level: str = "warning") -> None:
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=self.port, log_level=log_level, log_config=None)
        )
        self._thread = threading.Thread(target=self._server.run, name="imgopt-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "BackgroundServer":
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start on {self.url}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
