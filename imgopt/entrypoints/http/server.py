"""Serve the API from a background thread: for the demo, the tests, and services that embed imgopt."""

import socket
import threading
import time

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


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
