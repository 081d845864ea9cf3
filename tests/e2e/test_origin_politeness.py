"""Origins treated as someone's server: a few downloads at once from all workers together, and a rest when asked."""

import http.server
import io
import threading
import time

import pytest
from sqlalchemy import text

from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from imgopt.entrypoints.demo.local_http import QuietHTTPServer
from tests.e2e.test_worker_processes import WorkerProcess
from tests.support import LocalServer, LoopbackServer, Reply, corpus_bytes, csv_bytes, wait_for

JPEG = corpus_bytes("small-320x240.jpg")


class CountingOrigin(LoopbackServer):
    """A loopback origin that answers every GET with the JPEG after `delay` seconds, counting the
    requests in flight at once (`most`), and the User-Agent they came with."""

    def __init__(self, delay: float) -> None:
        origin = self
        self.in_flight = self.most = self.served = 0
        self.user_agents: set[str] = set()
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with origin._lock:
                    origin.in_flight += 1
                    origin.most = max(origin.most, origin.in_flight)
                    origin.user_agents.add(self.headers.get("user-agent", ""))
                try:
                    time.sleep(delay)
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(JPEG)))
                    self.end_headers()
                    self.wfile.write(JPEG)
                finally:
                    with origin._lock:
                        origin.in_flight -= 1
                        origin.served += 1

        self._serve(QuietHTTPServer(("127.0.0.1", 0), Handler))


def upload(container, *urls: str):
    rows = [f"{n},Product {n},{url}" for n, url in enumerate(urls, start=1)]
    return container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(*rows))).request_id


def summary(container, request_id):
    return container.use_cases.get_status()(ANONYMOUS_TENANT_ID, request_id).summary


def test_two_worker_processes_never_have_more_downloads_in_flight_at_one_origin_than_its_cap(
    container, clean_database, database_url, tmp_path
):
    settings = {"IMGOPT_ORIGIN_CONCURRENCY": "2", "IMGOPT_USER_AGENT_CONTACT": "https://ops.example/imgopt"}
    with CountingOrigin(delay=0.15) as origin:
        request_id = upload(container, *(origin.url(f"/p{n}.jpg") for n in range(24)))
        workers = [
            WorkerProcess(database_url, tmp_path / "data", tmp_path / f"{name}.log", **settings) for name in "ab"
        ]
        try:
            wait_for(lambda: summary(container, request_id).finished, timeout=120, message="the request to finish")
            # Slots kept between downloads (KeptOriginSlots) go back once idle, while the workers live.
            wait_for(lambda: leases(clean_database) == 0, timeout=30, message="the kept origin slots to go back")
        finally:
            for worker in workers:
                worker.stop()

    assert summary(container, request_id).images.optimized == 24
    assert origin.served == 24
    assert origin.most == 2  # never above the cap, and the cap was used
    assert len(origin.user_agents) == 1
    assert origin.user_agents.pop().endswith("(image optimizer; +https://ops.example/imgopt)")
    assert leases(clean_database) == 0


def leases(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM images.origin_leases")).scalar()


@pytest.fixture
def worker_container(start_worker):
    return start_worker(worker_concurrency=2, worker_poll_seconds=0.2)


class TimedServer(LocalServer):
    """A LocalServer that also notes when each request came (time.monotonic), in `times`."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[tuple[float, str]] = []

    def _take(self, method, path, headers, body):
        self.times.append((time.monotonic(), path))
        return super()._take(method, path, headers, body)


def test_an_origin_that_answers_429_with_retry_after_is_left_alone_that_long_and_only_it(worker_container):
    container = worker_container
    image = Reply(JPEG, headers={"Content-Type": "image/jpeg"})
    with TimedServer() as busy, TimedServer() as other:
        busy.route("/a.jpg", Reply(b"slow down", 429, headers={"Retry-After": "2"}), image)
        busy.route("/b.jpg", image)
        for n in range(6):
            other.route(f"/o{n}.jpg", image)
        first = upload(container, busy.url("/a.jpg"))
        wait_for(lambda: busy.hits("/a.jpg") == 1, message="the busy origin's 429")
        second = upload(container, busy.url("/b.jpg"), *(other.url(f"/o{n}.jpg") for n in range(6)))
        wait_for(lambda: summary(container, first).finished and summary(container, second).finished, timeout=60)

    assert summary(container, first).images.optimized == 1
    assert summary(container, second).images.optimized == 7
    (answered_429, _), *after = busy.times
    assert sorted(path for _, path in after) == ["/a.jpg", "/b.jpg"]  # each asked once more, both after the rest
    assert min(moment for moment, _ in after) - answered_429 >= 2.0
    # The other origin was served while the busy one rested (all of it, unless the host is slow beyond 2 s).
    assert min(moment for moment, _ in other.times) < min(moment for moment, _ in after), "the other origin went on"
    registry = container.telemetry.registry()
    assert registry.get_sample_value("imgopt_origin_backoff_total", {"status": "429"}) == 1
