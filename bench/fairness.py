"""Fair turns: tenant B's 10-image upload while tenant A's 20,000-image upload is in progress, against B's alone."""

import time

import httpx

from bench.database import scratch_database
from bench.endpoints import Origin, Receiver
from bench.pipeline import csv_of, serve
from bench.result import Goal, Measure, Result, Verdict
from bench.server import ServerProcess, create_key
from bench.stats import median
from bench.workspace import corpus_dir

PHOTO = "flowers.jpeg"  # 1920x1080, 85 kB: a typical product photo, as in the latency measurement


def fairness(quick: bool) -> Result:
    big, small, rounds = (400, 10, 1) if quick else (20_000, 10, 7)
    result = Result(
        "fairness",
        f"tenant B's {small}-image upload while tenant A's {big:,}-image upload runs, vs B's alone",
        method=(
            f"`imgopt serve` (API + worker, one process, keys required, no rate limit) on a scratch database; two "
            f"tenants, a key each. Images: {PHOTO} served from memory by an origin on loopback, under URLs new to "
            f"every upload. B alone = from just before B's POST /upload of {small} images (5 products x 2 URLs) until "
            f"its signed webhook reaches a receiver here, with nothing else queued. B under load = the same, started "
            f"once A's {big:,}-image upload has optimized its first images; A must still be unfinished when B's "
            f"webhook arrives (else the round is an error), and is then cancelled. {rounds} rounds, each alone then "
            "under load; medians; the ratio is paired per round."
        ),
    )
    photo = (corpus_dir() / PHOTO).read_bytes()
    with scratch_database("fairness") as database_url:
        keys = {tenant: create_key(database_url, "fairness", tenant) for tenant in ("team-a", "team-b")}
        with (
            Origin({PHOTO: photo}) as origin,
            Receiver() as receiver,
            serve(database_url, "fairness", auth="required") as server,
        ):
            tenants = {t: httpx.Client(base_url=server.url, timeout=300, headers={"Authorization": f"Bearer {k}"})
                       for t, k in keys.items()}  # fmt: skip
            run = _Runs(server, origin, receiver, tenants)
            run.small("warm-up", 2)
            alone, loaded, behind = [], [], []
            for round_ in range(rounds):
                alone.append(run.small(f"alone-{round_}", small))
                big_id = run.start_big(f"big-{round_}", big)
                loaded.append(run.small(f"loaded-{round_}", small))
                behind.append(run.finish_big(big_id, big))
    ratios = [with_load / by_itself for with_load, by_itself in zip(loaded, alone, strict=True)]
    result.measures += [
        Measure("B alone", "seconds to its webhook", median(alone), "s", alone),
        Measure("B while A runs", "seconds to its webhook", median(loaded), "s", loaded),
        Measure("A", "images left when B finished", median(behind), "images", behind),
    ]
    result.verdicts.append(Verdict("B while A runs / B alone", median(ratios), goal=Goal("<=", 2.0), samples=ratios))
    result.details = {"big": big, "small": small, "rounds": rounds}
    return result


class _Runs:
    def __init__(self, server: ServerProcess, origin: Origin, receiver: Receiver, tenants: dict) -> None:
        self._server = server
        self._origin = origin
        self._receiver = receiver
        self._a, self._b = tenants["team-a"], tenants["team-b"]

    def small(self, label: str, count: int) -> float:
        """Seconds from B's upload to its webhook."""
        expected = self._receiver.count + 1
        start = time.perf_counter()
        receipt = self._upload(self._b, label, count, webhook=True)
        arrival = self._receiver.wait(expected, timeout=300)
        if arrival is None:
            raise RuntimeError(f"{label}: no webhook within 300 s; server log: {self._server.log_tail()}")
        status = self._b.get(f"/status/{receipt['requestId']}").raise_for_status().json()
        if status["images"]["optimized"] != count:
            raise RuntimeError(f"{label}: {status['images']} — expected all {count} optimized")
        return arrival.at - start

    def start_big(self, label: str, count: int) -> str:
        request_id = self._upload(self._a, label, count, webhook=False)["requestId"]
        deadline = time.monotonic() + 120
        while self._images(request_id)["optimized"] < 4:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{label}: tenant A's upload did not start within 120 s")
            time.sleep(0.05)
        return request_id

    def finish_big(self, request_id: str, count: int) -> int:
        """How many of A's images were still to do when B finished; then A is cancelled and drained."""
        left = count - self._images(request_id)["optimized"]
        if left <= 0:
            raise RuntimeError("tenant A's upload finished before B's: the round measured nothing")
        self._a.post(f"/requests/{request_id}/cancel").raise_for_status()
        deadline = time.monotonic() + 120
        while self._images(request_id)["processing"]:
            if time.monotonic() > deadline:
                raise RuntimeError("tenant A's images in flight did not end within 120 s of its cancellation")
            time.sleep(0.05)
        return left

    def _images(self, request_id: str) -> dict:
        return self._a.get(f"/status/{request_id}").raise_for_status().json()["images"]

    def _upload(self, client: httpx.Client, label: str, count: int, webhook: bool) -> dict:
        csv = csv_of(f"{self._origin.base_url}/{label}", [PHOTO] * count)
        data = {"webhookUrl": f"{self._receiver.base_url}/hooks/{label}"} if webhook else {}
        response = client.post("/upload", files={"file": ("products.csv", csv, "text/csv")}, data=data)
        if response.status_code != 202:
            raise RuntimeError(f"{label}: the upload answered {response.status_code}: {response.text[:300]}")
        return response.json()
