"""The API and a worker on one container in this process, with a loopback origin of real photos and a receiver."""

import dataclasses

import httpx
import pytest
from dependency_injector import providers

from imgopt.bootstrap.containers import create_container
from imgopt.entrypoints.http.app import create_app
from imgopt.entrypoints.http.server import BackgroundServer, free_port
from imgopt.entrypoints.worker.process import build_worker
from tests.support import LocalServer, Reply, wait_for


@dataclasses.dataclass
class Service:
    url: str
    origin: LocalServer
    receiver: LocalServer
    files: object

    def upload(self, data: bytes, **fields: str) -> dict:
        response = httpx.post(
            f"{self.url}/upload", files={"file": ("p.csv", data, "text/csv")}, data=fields, timeout=30
        )
        assert response.status_code == 202, response.text
        return response.json()

    def status(self, request_id: str, details: bool = False) -> dict:
        return httpx.get(f"{self.url}/status/{request_id}", params={"details": str(details).lower()}).json()

    def finished(self, request_id: str) -> dict:
        return wait_for(
            lambda: (s := self.status(request_id))["status"] in ("completed", "completed_with_errors", "failed") and s,
            timeout=60,
            message=f"request {request_id} to finish",
        )


@pytest.fixture
def start_worker(settings, clean_database):
    """`start_worker(**overrides)`: a worker running in this process on `settings` with those changes; its container.

    Every worker started is stopped, and its container shut down, when the test ends.
    """
    started = []

    def start(**overrides):
        chosen = dataclasses.replace(settings, **overrides)
        container = create_container(chosen)
        container.persistence.engine.override(clean_database)
        worker = build_worker(container, chosen)
        worker.start()
        started.append((worker, container))
        return container

    yield start
    for worker, container in reversed(started):
        worker.stop()
        container.shutdown_resources()
        container.persistence.engine.reset_override()


@pytest.fixture
def service_clock():
    """The clock the service runs on (None: the system's); a test module overrides this fixture to move time."""
    return None


@pytest.fixture
def service(api_settings, clean_database, corpus, service_clock):
    port = free_port()
    settings = dataclasses.replace(
        api_settings,
        public_base_url=f"http://127.0.0.1:{port}",
        worker_poll_seconds=0.5,
        webhook_retry_schedule="0,1s,1s,1s",
    )
    container = create_container(settings)
    container.persistence.engine.override(clean_database)
    if service_clock is not None:
        container.core.clock.override(providers.Object(service_clock))
    worker = build_worker(container, settings)
    with LocalServer() as origin, LocalServer() as receiver:
        for name in ("small-320x240.jpg", "flowers.jpeg", "photo.webp", "grey16-alpha.png", "exif-orientation-6.jpg"):
            origin.route(f"/{name}", Reply((corpus / name).read_bytes(), headers={"Content-Type": "image/jpeg"}))
        origin.route(
            "/page.jpg", Reply(b"<!doctype html><html>not an image</html>", headers={"Content-Type": "image/jpeg"})
        )
        for path in ("/hook", "/late", "/all"):
            receiver.route(path, Reply(b"", 204))
        worker.start()
        try:
            with BackgroundServer(create_app(container, settings), port=port) as api:
                yield Service(api.url, origin, receiver, settings.data_dir / "files")
        finally:
            worker.stop()
            container.persistence.engine.reset_override()
            container.shutdown_resources()
