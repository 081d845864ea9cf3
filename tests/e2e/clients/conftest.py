"""A running `imgopt serve` (its own database, a real worker) and a loopback origin with real photos."""

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from imgopt.entrypoints.demo.local_http import LoopbackServer, QuietHandler
from tests.postgres import create_database, drop_database
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, free_port, wait_for

PHOTOS = ("photo-2725x2225.jpg", "cmyk.jpg", "photo.webp", "small-320x240.jpg", "flowers.jpeg")
FINISHED = ("completed", "completed_with_errors", "failed")


@dataclasses.dataclass
class Live:
    """The service as a user meets it: a base URL; and the loopback servers its CSVs point at.

    `key` is set where the service requires keys (`live_keyed`): a key of tenant "team-a", sent by `api`.
    """

    url: str
    origin: LocalServer
    receiver: LocalServer
    log: Path
    environment: dict[str, str]
    key: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    @property
    def cli(self) -> list[str]:
        """The `imgopt` command, to run against this service's database with `environment`."""
        return [sys.executable, "-m", "imgopt.entrypoints.cli"]

    def create_key(self, tenant: str, name: str = "tests") -> dict:
        """`imgopt keys create --json` against this service's database, as an operator would run it."""
        argv = [*self.cli, "keys", "create", "--tenant", tenant, name, "--json"]
        done = subprocess.run(argv, env=self.environment, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)

    def photo(self, name: str) -> str:
        return self.origin.url(f"/{name}")

    def missing(self, name: str = "gone.jpg") -> str:
        """An image URL the origin answers with 404: a permanent failure, with its reason."""
        return self.origin.url(f"/missing/{name}")

    def csv(self, *rows: str) -> bytes:
        return csv_bytes(*rows)

    def api(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, headers=self.headers, timeout=30)

    def finished(self, request_id: str) -> dict:
        return wait_for(
            lambda: (status := self.api(f"/status/{request_id}").json())["status"] in FINISHED and status,
            timeout=120,
            interval=0.2,
            message=f"request {request_id} to finish",
        )


class GatedOrigin(LoopbackServer):
    """Serves one photo, but only once `open()` is called: a request held in progress while a test looks."""

    def __init__(self, body: bytes) -> None:
        self._open = threading.Event()
        gate = self._open

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                gate.wait(timeout=120)
                self.reply(200, body, "image/jpeg")

        super().__init__(Handler)

    def url(self, name: str = "held.jpg") -> str:
        return f"{self.base_url}/{name}"

    def open(self) -> None:
        self._open.set()

    def __exit__(self, *exc_info: object) -> None:
        self.open()
        super().__exit__(*exc_info)


@pytest.fixture
def gated_origin():
    with GatedOrigin(corpus_bytes("small-320x240.jpg")) as origin:
        yield origin


@pytest.fixture(scope="package")
def live(postgres_server, tmp_path_factory):
    """`imgopt serve` with IMGOPT_AUTH=off (the original's open API), on a database of its own."""
    with serving(postgres_server, tmp_path_factory, IMGOPT_AUTH="off") as service:
        yield service


@pytest.fixture(scope="package")
def live_keyed(postgres_server, tmp_path_factory):
    """`imgopt serve` as it starts by default, keys required; `key` is one of tenant "team-a"'s."""
    with serving(postgres_server, tmp_path_factory, IMGOPT_RATE_LIMIT_PER_MINUTE="6000") as service:
        service.key = service.create_key("team-a")["key"]
        yield service


@contextlib.contextmanager
def serving(postgres_server, tmp_path_factory, **settings: str):
    """`imgopt serve` in a subprocess, as users start it, on a database of its own (dropped after)."""
    name = f"imgopt_clients_{uuid.uuid4().hex[:12]}"
    database_url = create_database(postgres_server, name)
    data_dir = tmp_path_factory.mktemp("serve")
    port = free_port()
    environment = {
        **os.environ,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_DATA_DIR": str(data_dir),
        "IMGOPT_ALLOW_PRIVATE_NETWORKS": "true",
        "IMGOPT_WORKER_POLL_SECONDS": "0.5",
        "IMGOPT_WEBHOOK_RETRY_SCHEDULE": "0,1s,1s",
        **settings,
    }
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log, LocalServer() as origin, LocalServer() as receiver:
        for photo in PHOTOS:
            origin.route(f"/{photo}", Reply(corpus_bytes(photo), headers={"Content-Type": "image/jpeg"}))
        receiver.route("/hook", Reply(b"", 204))
        server = subprocess.Popen(
            [sys.executable, "-m", "imgopt.entrypoints.cli", "serve", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _ready(base, server), timeout=90, interval=0.1, message=f"imgopt serve ({log_path})")
            yield Live(base, origin, receiver, log_path, environment)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    drop_database(postgres_server, name)


def _ready(base: str, server: subprocess.Popen) -> bool:
    if server.poll() is not None:
        raise AssertionError(f"imgopt serve exited with {server.returncode} before it was ready")
    try:
        return httpx.get(f"{base}/ready", timeout=5).status_code == 200
    except httpx.TransportError:
        return False
