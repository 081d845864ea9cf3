"""PostgreSQL stopped for fifteen seconds amid a few hundred images, with the API and the worker under load."""

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from imgopt.adapters.postgres.engine import make_engine, migrate
from tests.postgres import create_database
from tests.private_postgres import PrivatePostgres
from tests.processes import ServeProcess
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, wait_for

OUTAGE_SECONDS = 15


@dataclass
class Answer:
    path: str
    status: int | None  # None: no answer within the client's deadline
    body: dict | None = None
    retry_after: str | None = None


class Load:
    """Uploaders and status pollers hammering the API from threads until stopped; every answer kept."""

    def __init__(self, base: str, origin: LocalServer) -> None:
        self._base = base
        self._origin = origin
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.answers: list[Answer] = []
        self.accepted: list[str] = []
        self._threads = [threading.Thread(target=self._upload, daemon=True)]
        self._threads += [threading.Thread(target=self._poll, daemon=True) for _ in range(4)]

    def upload(self, client: httpx.Client, images: int) -> str | None:
        prefix = uuid.uuid4().hex[:8]
        paths = [f"/{prefix}/{n}.jpg" for n in range(images)]
        photo = corpus_bytes("small-320x240.jpg")
        for path in paths:
            self._origin.route(path, Reply(photo, headers={"Content-Type": "image/jpeg"}, delay=0.05))
        rows = [f"{n},P{n},{self._origin.url(path)}" for n, path in enumerate(paths, start=1)]
        files = {"file": ("p.csv", csv_bytes(*rows), "text/csv")}
        answer = self._ask(client, "POST", "/upload", files=files)
        if answer.status == 202:
            with self._lock:
                self.accepted.append(answer.body["requestId"])
            return answer.body["requestId"]
        return None

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _upload(self) -> None:
        with httpx.Client(timeout=15) as client:
            while not self._stop.wait(0.5):
                self.upload(client, 5)

    def _poll(self) -> None:
        with httpx.Client(timeout=15) as client:
            while not self._stop.wait(0.05):
                with self._lock:
                    request_id = self.accepted[-1] if self.accepted else str(uuid.uuid4())
                self._ask(client, "GET", f"/status/{request_id}")
                self._ask(client, "GET", "/ready")

    def _ask(self, client: httpx.Client, method: str, path: str, **kwargs) -> Answer:
        try:
            response = client.request(method, f"{self._base}{path}", **kwargs)
        except httpx.TimeoutException:
            answer = Answer(path, None)
        else:
            body = response.json() if response.headers.get("content-type", "").endswith("json") else None
            answer = Answer(path, response.status_code, body, response.headers.get("retry-after"))
        with self._lock:
            self.answers.append(answer)
        return answer


@pytest.fixture(scope="module")
def private_postgres():
    with PrivatePostgres() as server:
        url = create_database(server.url(), "imgopt_outage")
        engine = make_engine(url, pool_size=1)
        migrate(engine)
        engine.dispose()
        yield server, url


def test_a_database_restart_under_load_loses_nothing_and_gives_503s_not_500s(private_postgres, tmp_path):
    postgres, database_url = private_postgres
    settings = {
        "IMGOPT_WORKER_POLL_SECONDS": "0.5",
        "IMGOPT_WORKER_CONCURRENCY": "2",
        "IMGOPT_RATE_LIMIT_PER_MINUTE": "0",  # the pollers hammer on purpose
        # Short enough that results thrown away during the outage would be redone within the test.
        "IMGOPT_LEASE_SECONDS": "60",
    }
    with LocalServer() as origin, ServeProcess(database_url, tmp_path / "data", **settings) as serve:
        load = Load(serve.url, origin)
        with httpx.Client(timeout=15) as client:
            before = [load.upload(client, 50) for _ in range(4)]
        with load:
            wait_for(lambda: optimized(database_url) >= 40, timeout=60, message="the first images")
            postgres.stop()
            during_from = len(load.answers)
            time.sleep(OUTAGE_SECONDS)  # the outage itself: the load goes on meanwhile
            during = load.answers[during_from:]
            postgres.start()
            wait_for(lambda: optimized(database_url) >= 250, timeout=120, message="work to resume")
        accepted = list(load.accepted)
        wait_for(lambda: finished(database_url, accepted), timeout=120, message="every accepted upload to finish")
        worker_alive = serve.process.poll() is None
        log = serve.log

    assert all(before), "the uploads before the outage were accepted"
    assert worker_alive
    statuses = Counter(answer.status for answer in load.answers)
    assert set(statuses) <= {200, 202, 404, 503}, statuses
    outage_answers = [answer for answer in during if answer.status == 503]
    assert {answer.path.split("/")[1] for answer in outage_answers} >= {"status", "ready"}
    for answer in (answer for answer in load.answers if answer.status == 503):
        assert answer.body["status"] == 503 and answer.body["code"] in ("unavailable", "not_ready")
        assert "database" in answer.body["detail"] and answer.retry_after == "5"
    rows = jobs(database_url)
    assert len(rows) == sum(product_images(database_url).values())
    assert {row.status for row in rows} == {"optimized"}
    redone = [row for row in rows if row.attempts != 1]
    assert not redone, f"results finished during the outage were recorded, not redone: {redone}"
    fetched = Counter(request.path for request in origin.requests)
    assert len(fetched) == len(rows) and set(fetched.values()) == {1}
    stored_requests = set(requests(database_url))
    assert stored_requests == set(accepted), "every upload refused during the outage left nothing behind"
    assert log.count("backs off and tries again") == 1 and log.count("the database is back after") == 1
    assert "Traceback" not in log


def optimized(database_url: str) -> int:
    return _scalar(database_url, "SELECT count(*) FROM images.optimizerjobs WHERE status = 'optimized'")


def finished(database_url: str, request_ids: list[str]) -> bool:
    query = "SELECT count(*) FROM images.requests WHERE status = 'completed' AND id = ANY(CAST(:ids AS uuid[]))"
    return _scalar(database_url, query, ids=request_ids) == len(request_ids)


def jobs(database_url: str) -> list:
    return _rows(database_url, "SELECT id, status, attempts, failure_reason, updated_at FROM images.optimizerjobs")


def requests(database_url: str) -> list[str]:
    return [str(row.id) for row in _rows(database_url, "SELECT id FROM images.requests")]


def product_images(database_url: str) -> dict[str, int]:
    query = "SELECT request_id, sum(cardinality(input_urls)) AS images FROM images.productimages GROUP BY 1"
    return {str(row.request_id): row.images for row in _rows(database_url, query)}


def _rows(database_url: str, query: str, **params) -> list:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query), params))
    finally:
        engine.dispose()


def _scalar(database_url: str, query: str, **params) -> int:
    try:
        return _rows(database_url, query, **params)[0][0]
    except Exception:  # the database is down or starting: not yet
        return 0
