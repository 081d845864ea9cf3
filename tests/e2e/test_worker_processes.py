"""Real `imgopt worker` processes sharing one database: no image lost, none processed twice by mistake."""

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, free_port, wait_for


class WorkerProcess:
    def __init__(self, database_url: str, data_dir: Path, log: Path, **settings: str) -> None:
        environment = {
            **os.environ,
            "IMGOPT_DATABASE_URL": database_url,
            "IMGOPT_DATA_DIR": str(data_dir),
            "IMGOPT_PUBLIC_BASE_URL": "http://imgopt.test",
            "IMGOPT_ALLOW_PRIVATE_NETWORKS": "true",
            "IMGOPT_WORKER_POLL_SECONDS": "0.5",
            "IMGOPT_WORKER_CONCURRENCY": "2",
            **settings,
        }
        self.log = log
        self._output = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "imgopt.entrypoints.cli", "worker", "--no-migrate"],
            env=environment,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: b"worker started" in log.read_bytes(), timeout=30, message=f"the worker to start ({log})")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._output.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait(10)


@pytest.fixture
def workers(database_url, tmp_path):
    started: list[WorkerProcess] = []

    def start(name: str, **settings: str) -> WorkerProcess:
        started.append(WorkerProcess(database_url, tmp_path / "data", tmp_path / f"{name}.log", **settings))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def origin():
    with LocalServer() as server:
        yield server


def upload_images(container, origin: LocalServer, count: int, delay: float = 0.0):
    image = corpus_bytes("small-320x240.jpg")
    for n in range(count):
        origin.route(f"/p{n}.jpg", Reply(image, headers={"Content-Type": "image/jpeg"}, delay=delay))
    rows = [
        f'{n + 1},Product {n + 1},"{origin.url(f"/p{2 * n}.jpg")}, {origin.url(f"/p{2 * n + 1}.jpg")}"'
        for n in range(count // 2)
    ]
    return container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(*rows)))


def jobs(engine, request_id) -> list:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT id, status, attempts, claimed_by, output_key"
                    " FROM images.optimizerjobs WHERE request_id = :id"
                ),
                {"id": request_id},
            )
        )


def summary(container, request_id):
    return container.use_cases.get_status()(ANONYMOUS_TENANT_ID, request_id).summary


def finished(container, request_id, timeout: float = 120):
    return wait_for(
        lambda: (s := summary(container, request_id)).finished and s, timeout=timeout, message="the request to finish"
    )


def output_files(data_dir: Path, request_id) -> list[Path]:
    return sorted(path for path in (data_dir / "files" / str(request_id)).iterdir() if not path.name.startswith("."))


def test_two_workers_share_a_200_image_request_and_process_every_image_exactly_once(
    container, clean_database, origin, workers, tmp_path
):
    ports = [free_port(), free_port()]
    first, second = (workers(name, IMGOPT_METRICS_PORT=str(port)) for name, port in zip(("a", "b"), ports, strict=True))

    receipt = upload_images(container, origin, 200, delay=0.02)
    done = finished(container, receipt.request_id)
    # Each worker counts its images right after recording them: the last may be counted a moment after.
    counted = wait_for(
        lambda: sum(c := [optimized_count(f"http://127.0.0.1:{port}/metrics") for port in ports]) == 200 and c,
        message="both workers' metrics to count every image",
    )
    for worker in (first, second):
        worker.signal(signal.SIGTERM)
        assert worker.wait(30) == 0

    assert (done.status.value, done.images.optimized, done.images.failed) == ("completed", 200, 0)
    assert sorted(request.path for request in origin.requests) == sorted(f"/p{n}.jpg" for n in range(200))
    rows = jobs(clean_database, receipt.request_id)
    assert {row.status for row in rows} == {"optimized"} and {row.attempts for row in rows} == {1}
    assert len({row.claimed_by for row in rows}) == 2
    files = output_files(tmp_path / "data", receipt.request_id)
    assert [f"{receipt.request_id}/{path.name}" for path in files] == sorted(row.output_key for row in rows)
    assert all(counted), "each worker's /metrics counts the images it finished"


def optimized_count(metrics_url: str) -> float:
    families = text_string_to_metric_families(httpx.get(metrics_url).text)
    return next(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == "imgopt_images_finished_total" and sample.labels == {"outcome": "optimized"}
    )


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_no_output(
    container, clean_database, origin, workers, tmp_path
):
    # The killed worker's origin slots (in use or kept between downloads) are no longer renewed: the rescuer has
    # them within an origin lease (15 s), whatever the fetch timeout.
    quick_leases = {"IMGOPT_LEASE_SECONDS": "2"}
    doomed = workers("doomed", **quick_leases)
    receipt = upload_images(container, origin, 200, delay=0.05)
    wait_for(lambda: summary(container, receipt.request_id).images.optimized >= 20, timeout=60)

    doomed.signal(signal.SIGKILL)
    doomed.wait(10)
    held = {row.id for row in jobs(clean_database, receipt.request_id) if row.status == "processing"}
    workers("rescuer", **quick_leases)
    done = finished(container, receipt.request_id)

    assert held, "the worker was killed while it held images"
    assert (done.status.value, done.images.optimized, done.images.failed) == ("completed", 200, 0)
    rows = jobs(clean_database, receipt.request_id)
    assert {row.status for row in rows} == {"optimized"}
    assert {row.id for row in rows if row.attempts == 2} == held
    files = output_files(tmp_path / "data", receipt.request_id)
    assert [f"{receipt.request_id}/{path.name}" for path in files] == sorted(row.output_key for row in rows)
    assert {request.path for request in origin.requests} == {f"/p{n}.jpg" for n in range(200)}


def test_sigterm_releases_what_cannot_finish_in_the_grace_period(container, clean_database, origin, workers):
    worker = workers("stopping", IMGOPT_WORKER_STOP_GRACE_SECONDS="1")
    receipt = upload_images(container, origin, 20, delay=30)
    wait_for(lambda: summary(container, receipt.request_id).images.processing >= 4, timeout=30)

    worker.signal(signal.SIGTERM)
    code = worker.wait(20)

    assert code == 0
    rows = jobs(clean_database, receipt.request_id)
    assert {row.status for row in rows} == {"pending"}
    assert {row.attempts for row in rows} == {0}
    assert summary(container, receipt.request_id).images.pending == 20
