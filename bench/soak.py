"""The service under a sustained mixed load: 20 clients uploading, 32 polling status, two minutes, nothing lost.

`imgopt serve` (API and worker in one process) runs as a subprocess on a scratch database. Twenty
clients each upload a CSV (10 products x 2 images, under a URL prefix of its own), poll its status
until it has finished, and upload again; 32 more poll the status of uploads picked at random, as
dashboards would. Every answer is kept. Afterwards every upload must have finished `completed`
with all its rows stored and every image fetched from the origin once and optimized on its first
attempt: a run that loses or repeats anything stops with the reason, it never becomes a figure.
Reference: the same 32 pollers against the same server, idle (no uploads), earlier in the same run.
"""

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field

import httpx
import psycopg

from bench.database import scratch_database
from bench.endpoints import Origin
from bench.load import RawConnection
from bench.result import Measure, Result, Verdict
from bench.server import imgopt_serve
from bench.stats import percentile
from bench.workspace import corpus_dir
from imgopt.domain.product_csv import HEADER

UPLOADERS, POLLERS = 20, 32
PRODUCTS, IMAGES_PER_PRODUCT = 10, 2
PHOTO = "small-320x240.jpg"
FINISHED = ("completed", "completed_with_errors", "failed")


@dataclass
class Tally:
    """What the clients saw: latencies in ms by kind, errors, and each accepted upload's rows and image paths."""

    polls: list[float] = field(default_factory=list)
    uploads: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    accepted: dict[str, list[str]] = field(default_factory=dict)


def soak(quick: bool) -> Result:
    seconds, idle_seconds = (10, 3) if quick else (120, 20)
    result = Result(
        "soak",
        f"{UPLOADERS} clients uploading and {POLLERS} polling status for {seconds} s: errors, lost rows, p99",
        method=__doc__.split("\n\n", 1)[1].replace("\n", " ")
        + " Clients on asyncio in the bench process: uploaders with httpx, pollers each on one raw keep-alive"
        " HTTP/1.1 connection (bench/load.py), so the client's own cost stays out of the latencies;"
        f" the origin serves {PHOTO} from memory on loopback;"
        f" IMGOPT_WORKER_CONCURRENCY=2. Idle reference: {idle_seconds} s.",
    )
    photo = (corpus_dir() / PHOTO).read_bytes()
    with scratch_database("soak") as database_url, Origin({PHOTO: photo}) as origin:
        settings = {"worker_concurrency": "2", "allow_private_networks": "true"}
        with imgopt_serve(database_url, "soak", **settings) as server:
            idle, loaded = asyncio.run(_run(server.url, origin, seconds, idle_seconds))
            images_per_second = len(loaded.accepted) * PRODUCTS * IMAGES_PER_PRODUCT / seconds
        _verify(database_url, origin, idle.accepted | loaded.accepted)
    if loaded.errors or idle.errors:
        raise RuntimeError(f"{len(loaded.errors)} errors under load, e.g. {loaded.errors[:3]}; idle: {idle.errors[:3]}")
    for name, tally in (("idle", idle), ("loaded", loaded)):
        result.measures += [
            Measure(name, "status polls", len(tally.polls)),
            Measure(name, "poll p50 ms", percentile(tally.polls, 0.5), "ms"),
            Measure(name, "poll p99 ms", percentile(tally.polls, 0.99), "ms"),
        ]
    result.measures += [
        Measure("loaded", "uploads", len(loaded.accepted)),
        Measure("loaded", "upload p99 ms", percentile(loaded.uploads, 0.99), "ms"),
        Measure("loaded", "images/s", images_per_second, "img/s"),
        Measure("loaded", "errors", len(loaded.errors)),
    ]
    p99_loaded, p99_idle = percentile(loaded.polls, 0.99), percentile(idle.polls, 0.99)
    result.verdicts += [
        Verdict("status poll p99 under load", p99_loaded, "ms"),
        Verdict("status poll p99, loaded / idle", p99_loaded / p99_idle),
        Verdict("upload p99 under load", percentile(loaded.uploads, 0.99), "ms"),
        Verdict("images optimized per second under load", images_per_second, "img/s"),
    ]
    result.details = {
        "seconds": seconds,
        "uploads": len(loaded.accepted),
        "images": len(loaded.accepted) * PRODUCTS * IMAGES_PER_PRODUCT,
        "polls": len(loaded.polls),
        "errors": 0,
        "lost_rows": 0,
        "images_not_exactly_once": 0,
    }
    return result


async def _run(base: str, origin: Origin, seconds: float, idle_seconds: float) -> tuple[Tally, Tally]:
    limits = httpx.Limits(max_connections=UPLOADERS + POLLERS, max_keepalive_connections=UPLOADERS + POLLERS)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        idle = Tally()
        await _upload_and_wait(client, origin, idle)  # something to poll, and a warm-up
        deadline = time.monotonic() + idle_seconds
        await asyncio.gather(*(_poll(base, idle, deadline) for _ in range(POLLERS)))
        loaded = Tally(accepted=dict(idle.accepted))
        deadline = time.monotonic() + seconds
        tasks = [_upload_until(client, origin, loaded, deadline) for _ in range(UPLOADERS)]
        await asyncio.gather(*tasks, *(_poll(base, loaded, deadline) for _ in range(POLLERS)))
        for request_id in idle.accepted:
            loaded.accepted.pop(request_id)
        return idle, loaded


async def _upload_until(client: httpx.AsyncClient, origin: Origin, tally: Tally, deadline: float) -> None:
    while time.monotonic() < deadline:
        await _upload_and_wait(client, origin, tally)


async def _upload_and_wait(client: httpx.AsyncClient, origin: Origin, tally: Tally) -> None:
    prefix = uuid.uuid4().hex
    paths = [[f"/{prefix}/{line}-{n}/{PHOTO}" for n in range(IMAGES_PER_PRODUCT)] for line in range(PRODUCTS)]
    rows = [
        f'{line + 1},Product {line + 1},"{",".join(origin.base_url + p for p in urls)}"'
        for line, urls in enumerate(paths)
    ]
    body = (",".join(HEADER) + "\n" + "\n".join(rows) + "\n").encode()
    started = time.perf_counter()
    response = await client.post("/upload", files={"file": ("p.csv", body, "text/csv")})
    tally.uploads.append((time.perf_counter() - started) * 1e3)
    if response.status_code != 202:
        tally.errors.append(f"POST /upload {response.status_code}: {response.text[:200]}")
        return
    request_id = response.json()["requestId"]
    tally.accepted[request_id] = [path for urls in paths for path in urls]
    while (status := await _status(client, tally, request_id)) not in FINISHED:
        if status is None:  # counted as an error; the check afterwards finds whether it finished
            return
        await asyncio.sleep(0.25)


async def _poll(base: str, tally: Tally, deadline: float) -> None:
    """A dashboard: the status of an upload picked at random, again and again, on one keep-alive connection."""
    connection = await RawConnection.open(base)
    try:
        while time.monotonic() < deadline:
            request_id = random.choice(list(tally.accepted))
            started = time.perf_counter()
            status, body = await connection.get(f"/status/{request_id}")
            tally.polls.append((time.perf_counter() - started) * 1e3)
            if status != 200:
                tally.errors.append(f"GET /status {status}: {body[:200]!r}")
    finally:
        connection.close()


async def _status(client: httpx.AsyncClient, tally: Tally, request_id: str) -> str | None:
    """The uploader's own wait for its upload (not timed: the pollers' answers are the figure)."""
    try:
        response = await client.get(f"/status/{request_id}")
    except httpx.HTTPError as error:
        tally.errors.append(f"GET /status: {type(error).__name__}")
        return None
    if response.status_code != 200:
        tally.errors.append(f"GET /status {response.status_code}: {response.text[:200]}")
        return None
    return response.json()["status"]


def _verify(database_url: str, origin: Origin, accepted: dict[str, list[str]]) -> None:
    """Every accepted upload completed, every row stored, every image fetched once and optimized on its first try."""
    with psycopg.connect(database_url) as connection:
        requests = {
            str(row[0]): row[1:]
            for row in connection.execute(
                "SELECT r.id, r.status, r.product_count, "
                "(SELECT count(*) FROM images.productimages p WHERE p.request_id = r.id), "
                "(SELECT count(*) FROM images.optimizerjobs j WHERE j.request_id = r.id "
                " AND j.status = 'optimized' AND j.attempts = 1) FROM images.requests r"
            )
        }
    problems = []
    for request_id, paths in accepted.items():
        status, products, rows, once = requests.get(request_id, (None, 0, 0, 0))
        if (status, products, rows, once) != ("completed", PRODUCTS, PRODUCTS, len(paths)):
            problems.append(f"{request_id}: {status}, {products} products, {rows} rows, {once} images done once")
        problems += [f"{path} fetched {origin.paths[path]} times" for path in paths if origin.paths[path] != 1]
    if set(requests) != set(accepted):
        problems.append(f"{len(set(requests) - set(accepted))} requests stored that were not accepted")
    if problems:
        raise RuntimeError(f"{len(problems)} problems, e.g. {problems[:5]}")
