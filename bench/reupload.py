"""The nightly re-upload: the same catalogue a second time through `imgopt serve`, against the first time.

The first upload fetches and optimizes every image; the second finds every source unchanged (the
origin answers its conditional GETs 304) and must cost only the asking: origin requests, the
service's CPU seconds (serve process plus its PostgreSQL backends), objects and bytes stored.
"""

import hashlib
import threading
import time
from pathlib import Path

import httpx
import standardwebhooks

from bench.database import backend_cpu, backend_cpu_used, scratch_database
from bench.endpoints import Receiver
from bench.pipeline import LATENCY_PHOTO, csv_of, fresh_data_dir, serve
from bench.result import Goal, Measure, Result, Verdict
from bench.workspace import corpus_dir
from imgopt.entrypoints.demo.local_http import LoopbackServer, QuietHandler


class ValidatingOrigin(LoopbackServer):
    """Serves in-memory JPEGs by the last path segment with an ETag, and answers 304 to a request that asks with it."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.requests = self.conditional = self.not_modified = 0
        self._lock = threading.Lock()
        etags = {name: f'"{hashlib.sha256(data).hexdigest()[:16]}"' for name, data in files.items()}
        origin = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                asked = self.headers.get("If-None-Match")
                unchanged = asked is not None and asked == etags.get(name)
                with origin._lock:
                    origin.requests += 1
                    origin.conditional += asked is not None
                    origin.not_modified += unchanged
                if name not in files:
                    self.reply(404, b"not found")
                    return
                self.send_response(304 if unchanged else 200)
                self.send_header("ETag", etags[name])
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", "0" if unchanged else str(len(files[name])))
                self.end_headers()
                if not unchanged:
                    self.wfile.write(files[name])

        super().__init__(Handler)


def catalogue(photo: str, count: int) -> dict[str, bytes]:
    """`count` different files of one photo (distinct bytes after its end marker): the same work each."""
    data = (corpus_dir() / photo).read_bytes()
    stem = Path(photo).stem
    return {f"{stem}-{index:05d}.jpg": data + f"imgopt-bench-{index}".encode() for index in range(count)}


# The goal's catalogue (typical product photos), then, in the full run, one of 6-megapixel photos:
# the share of the first upload's CPU that a re-upload costs depends on what optimizing costs.
TYPICAL, LARGE = (LATENCY_PHOTO, 2000), ("photo-2725x2225.jpg", 500)


def reupload(quick: bool) -> Result:
    catalogues = [(LATENCY_PHOTO, 20)] if quick else [TYPICAL, LARGE]
    files = {photo: catalogue(photo, count) for photo, count in catalogues}
    (photo, count), *_ = catalogues
    result = Result(
        "reupload",
        f"the same {count}-image catalogue uploaded a second time, against the first time",
        method=(
            f"{count} distinct files of {LATENCY_PHOTO} (1920x1080, 85 kB; distinct bytes after the JPEG's end, so "
            f"every one is optimized), {count // 2} products x 2 URLs, uploaded twice to `imgopt serve` (a subprocess "
            "on a scratch database, defaults) with a webhook; the origin on loopback sends an ETag and answers "
            "If-None-Match with 304. Each upload runs from POST /upload to its verified webhook; CPU = the serve "
            "process plus the PostgreSQL backends of its database (from /proc), objects and bytes = the files "
            "under its data directory. One run of each (the second depends on the first). The full run then does "
            f"the same with {LARGE[1]} files of {LARGE[0]} (6 megapixels, 0.8 MB) on the same server."
        ),
    )
    data_dir = fresh_data_dir("reupload")
    with (
        scratch_database("reupload") as database_url,
        ValidatingOrigin({name: data for one in files.values() for name, data in one.items()}) as origin,
        Receiver() as receiver,
        serve(database_url, "reupload") as server,
        httpx.Client(base_url=server.url, timeout=120) as client,
    ):
        runs = {}
        for photo, count in catalogues:
            csv = csv_of(f"{origin.base_url}/catalogue", list(files[photo]))
            runs[photo] = [_upload(client, server, origin, receiver, database_url, data_dir, csv, count) for _ in "12"]
    for photo, count in catalogues:
        first, second = runs[photo]
        for label, run in (("first upload", first), ("second upload", second)):
            label = f"{label}, {photo}"
            result.measures += [
                Measure(label, "origin requests", run["requests"]),
                Measure(label, "  of which 304", run["not_modified"]),
                Measure(label, "CPU-s (serve + database)", run["cpu"], "s"),
                Measure(label, "  CPU-s serve process", run["serve_cpu"], "s"),
                Measure(label, "  CPU-s database backends", run["database_cpu"], "s"),
                Measure(label, "CPU ms per image", 1000 * run["cpu"] / count, "ms"),
                Measure(label, "seconds", run["seconds"], "s"),
                Measure(label, "new objects", run["objects"]),
                Measure(label, "new bytes stored", run["bytes"], "B"),
                Measure(label, "images reused", run["reused"]),
            ]
    (photo, count), *rest = catalogues
    first, second = runs[photo]
    result.verdicts += [
        Verdict("second / first upload CPU seconds", second["cpu"] / first["cpu"], goal=Goal("<=", 0.05)),
        Verdict("objects the second upload stored", second["objects"], "", goal=Goal("<", 1)),
        Verdict("second upload: images reused / images", second["reused"] / count, goal=Goal(">=", 1.0)),
    ]
    for photo, _ in rest:
        first, second = runs[photo]
        result.verdicts.append(Verdict(f"second / first upload CPU seconds, {photo}", second["cpu"] / first["cpu"]))
    result.details = {"images": count, "runs": runs[LATENCY_PHOTO], "catalogues": runs}
    return result


def _upload(client, server, origin, receiver, database_url: str, data_dir: Path, csv: bytes, count: int) -> dict:
    stored_before = _stored(data_dir)
    requests_before, not_modified_before = origin.requests, origin.not_modified
    expected = receiver.count + 1
    cpu_before, db_before = server.cpu_seconds(), backend_cpu(database_url)
    start = time.perf_counter()
    files = {"file": ("products.csv", csv, "text/csv")}
    receipt = client.post("/upload", files=files, data={"webhookUrl": f"{receiver.base_url}/hooks/r"}).json()
    arrival = receiver.wait(expected, timeout=max(300, count))
    if arrival is None:
        raise RuntimeError(f"no webhook within the timeout; server log: {server.log_tail()}")
    seconds = time.perf_counter() - start
    db_cpu = backend_cpu_used(db_before, backend_cpu(database_url))
    serve_cpu = server.cpu_seconds() - cpu_before
    cpu = serve_cpu + (db_cpu or 0.0)
    payload = standardwebhooks.Webhook(receipt["webhook"]["secret"]).verify(arrival.body, arrival.headers)
    if payload["data"]["images"]["optimized"] != count:
        raise RuntimeError(f"the webhook reported {payload['data']['images']}, expected all {count} optimized")
    objects, stored_bytes = (after - before for after, before in zip(_stored(data_dir), stored_before, strict=True))
    return {
        "requests": origin.requests - requests_before,
        "not_modified": origin.not_modified - not_modified_before,
        "cpu": cpu,
        "serve_cpu": serve_cpu,
        "database_cpu": db_cpu,
        "seconds": seconds,
        "objects": objects,
        "bytes": stored_bytes,
        "reused": _reused(client, receipt["requestId"]),
    }


def _stored(data_dir: Path) -> tuple[int, int]:
    paths = [path for path in (data_dir / "files").rglob("*") if path.is_file()]
    return len(paths), sum(path.stat().st_size for path in paths)


def _reused(client: httpx.Client, request_id: str) -> int:
    reused, cursor = 0, None
    while True:
        params = {"details": "true", "limit": "1000", **({"cursor": cursor} if cursor else {})}
        details = client.get(f"/status/{request_id}", params=params).raise_for_status().json()["details"]
        reused += sum(image.get("reused", False) for product in details["products"] for image in product["images"])
        cursor = details["nextCursor"]
        if cursor is None:
            return reused
