"""Several hosts, no disk in common: `imgopt api` and two `imgopt worker` processes share only PostgreSQL and S3."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from imgopt.entrypoints.http.server import free_port
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, wait_for

PHOTOS = ("small-320x240.jpg", "flowers.jpeg")


class Host:
    """One `imgopt` command as a process of its own, with a data directory nobody else sees."""

    def __init__(self, name: str, command: list[str], environment: dict[str, str], root: Path) -> None:
        self.data_dir = root / name
        self.log = root / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "imgopt.entrypoints.cli", *command, "--no-migrate"],
                env={**environment, "IMGOPT_DATA_DIR": str(self.data_dir)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)


@pytest.fixture
def hosts(database_url, clean_database, s3_endpoint, s3_bucket, tmp_path):
    """The API's URL and the three hosts: an API and two workers, all on one database and one bucket."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        **s3_endpoint.environment,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_PUBLIC_BASE_URL": base,
        "IMGOPT_STORAGE_URL": f"s3://{s3_bucket}/outputs",
        "IMGOPT_ALLOW_PRIVATE_NETWORKS": "true",
        "IMGOPT_AUTH": "off",
        "IMGOPT_WORKER_CONCURRENCY": "2",
        "IMGOPT_WORKER_POLL_SECONDS": "0.5",
    }
    started = [
        Host("api", ["api", "--port", str(port)], environment, tmp_path),
        Host("worker-1", ["worker"], environment, tmp_path),
        Host("worker-2", ["worker"], environment, tmp_path),
    ]
    try:
        wait_for(lambda: _answers(f"{base}/ready"), timeout=60, interval=0.1, message="the API to be ready")
        for worker in started[1:]:
            wait_for(lambda w=worker: b"worker started" in w.log.read_bytes(), timeout=60, message=str(worker.log))
        yield base, started
    finally:
        for host in started:
            host.stop()


def test_outputs_written_by_two_workers_are_served_by_an_api_that_shares_no_disk_with_them(hosts, clean_database):
    base, started = hosts
    photos = {f"/p{n}.jpg": corpus_bytes(PHOTOS[n % 2]) for n in range(40)}
    with LocalServer() as origin:
        for path, photo in photos.items():
            origin.route(path, Reply(photo, headers={"Content-Type": "image/jpeg"}, delay=0.1))
        rows = [
            f'{n + 1},Product {n + 1},"{origin.url(f"/p{2 * n}.jpg")},{origin.url(f"/p{2 * n + 1}.jpg")}"'
            for n in range(20)
        ]

        upload = httpx.post(f"{base}/upload", files={"file": ("products.csv", csv_bytes(*rows), "text/csv")})
        status_url = f"{base}/status/{upload.json()['requestId']}"
        wait_for(lambda: httpx.get(status_url).json()["status"] == "completed", timeout=120, interval=0.2)

    images = [
        image
        for product in httpx.get(status_url, params={"details": "true"}).json()["details"]["products"]
        for image in product["images"]
    ]
    outputs = [httpx.get(image["outputUrl"], follow_redirects=True) for image in images]
    with clean_database.connect() as connection:
        workers = set(connection.exec_driver_sql("SELECT DISTINCT claimed_by FROM images.optimizerjobs").scalars())
    assert len(images) == 40 and all(image["outputUrl"].startswith(f"{base}/files/") for image in images)
    assert [response.status_code for response in outputs] == [200] * 40
    assert all(response.content.startswith(b"\xff\xd8\xff") for response in outputs)
    assert all(len(response.content) == image["bytesOut"] for response, image in zip(outputs, images, strict=True))
    assert len(workers) == 2
    assert [path for host in started for path in host.data_dir.rglob("*") if path.is_file()] == []
    assert [worker.stop() for worker in started[1:]] == [0, 0]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False
