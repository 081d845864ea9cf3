"""End to end through `imgopt serve`: many images until the signed webhook against the bare kernel; one image's latency.

Both drive the real service as a client would: a CSV in the original's format is posted to
`imgopt serve` (API and worker in one process, a subprocess on a scratch database), the images
come from an origin on loopback in this process, and the clock stops when the signed webhook
reaches a receiver here. Every webhook is verified with the `standardwebhooks` package and must
report every image optimized: a run with a failed image is an error, never a figure.
"""

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import standardwebhooks

from bench import images
from bench.database import backend_cpu, backend_cpu_used, scratch_database
from bench.endpoints import Arrival, Origin, Receiver
from bench.race import WORKERS
from bench.result import Goal, Measure, Result, Verdict
from bench.server import ServerProcess, imgopt_serve
from bench.stats import column, interleave, median, paired_ratios, percentile
from bench.subjects import imgopt_optimizer, run_threads
from bench.workspace import WORK, corpus_dir
from imgopt.bootstrap.settings import Settings, default_concurrency
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.product_csv import HEADER

LATENCY_PHOTO = "flowers.jpeg"  # 1920x1080, 85 kB: a typical product photo
# The service's own default, stated explicitly so the figure names the interval it ran under.
POLL_SECONDS = Settings().worker_poll_seconds
SETTLE_SECONDS = 0.3  # after a run's delivery is recorded, before the next run's spacing starts
IDLE_PROBE_SECONDS = 0.1  # the server's CPU is read over this window just before each latency upload
GOLDEN = 0.6180339887498949  # spreads the runs' start phases evenly over the poll interval

# What `imgopt serve` optimizes at once by default on a host with as many cores as the kernel has threads.
SERVE_CONCURRENCY = default_concurrency(WORKERS)


def pipeline(quick: bool) -> Result:
    count, rounds = (10, 1) if quick else (500, 5)
    files = images.photo_variants(count)
    inputs = {path.name: path.read_bytes() for path in files}
    megabytes = sum(map(len, inputs.values())) / 1e6
    result = Result(
        "pipeline",
        f"{count}-image CSV through the API and the worker until the signed webhook, vs the bare kernel",
        method=(
            f"{count} distinct {images.SOURCE}-sized JPEGs (the kernel-original variants, {megabytes:.0f} MB), "
            f"{count // 2} products x 2 URLs in the original's CSV format. imgopt = `imgopt serve` (API + worker, one "
            f"process, IMGOPT_WORKER_CONCURRENCY={SERVE_CONCURRENCY}, the default on {WORKERS} cores) as a subprocess "
            "on a scratch database; the images are "
            "served from memory by an HTTP/1.1 origin on loopback in the bench process, under a URL prefix new to "
            "every upload; the clock runs from just before POST /upload (with webhookUrl) until the webhook's body "
            "has reached a receiver in the bench process; the webhook is then verified with `standardwebhooks` and "
            "must say completed with every image optimized. One server for all rounds, warmed up by a 2-image "
            "upload; outputs are written by the service to disk and deleted after each round. Reference = the bare "
            "kernel: the default optimizer's .optimize(data, OptimizationOptions()) on "
            f"{WORKERS} threads over the same {count} inputs in memory (warmed up on 2). {rounds} interleaved rounds, "
            "rotating the order; medians; ratios paired per round. Per CPU-second: the kernel's = images over the "
            "bench process's CPU time; imgopt's = images over the CPU time of the serve process plus the PostgreSQL "
            "backends serving its database (read from /proc by pid; the origin's and receiver's CPU in the bench "
            "process is shown apart, not charged). Split = medians of when each step happened, from the clock's start "
            "(server timestamps from GET /status?details=true; same host, same clock)."
        ),
    )
    kernel = imgopt_optimizer(OptimizationOptions())
    data = list(inputs.values())
    data_dir = fresh_data_dir("pipeline")
    checks: list[dict] = []
    with (
        ThreadPoolExecutor(WORKERS) as pool,
        scratch_database("pipeline") as database_url,
        Origin(inputs) as origin,
        Receiver() as receiver,
        serve(database_url, "pipeline") as server,
    ):
        run_threads(kernel, data[:2], pool)
        trips = Trips(server, origin, receiver, database_url, data_dir)
        trips.run("warm-up", list(inputs)[:2], timeout=120)

        def through_imgopt() -> dict[str, float]:
            trip = trips.run(f"round-{len(checks)}", list(inputs), timeout=max(300, count))
            checks.append(trip.check)
            return trip.figures(count)

        def bare_kernel() -> dict[str, float]:
            seconds, cpu_seconds, _ = run_threads(kernel, data, pool)
            return {"rate": count / seconds, "cpu_rate": count / cpu_seconds, "seconds": seconds, "cpu": cpu_seconds}

        samples = interleave({"imgopt": through_imgopt, "kernel": bare_kernel}, rounds)
    imgopt, bare = samples["imgopt"], samples["kernel"]
    database_known = all("db_cpu" in sample for sample in imgopt)
    cpu_label = "serve + database" if database_known else "serve process only: database backends not on this host"
    result.measures += [
        *_rate_measures("imgopt serve, upload to webhook", imgopt, count),
        *_rate_measures(f"bare kernel, {WORKERS} threads", bare),
        Measure("  CPU: serve process", "CPU-s", median(column(imgopt, "serve_cpu")), "s"),
        Measure(
            "  CPU: database backends",
            "CPU-s",
            median(column(imgopt, "db_cpu")) if database_known else None,
            "s",
            note="" if database_known else "not processes of this host",
        ),
        Measure("  CPU: bench process (origin, receiver)", "CPU-s", median(column(imgopt, "bench_cpu")), "s"),
        *_split_measures(imgopt, "s", 1.0),
    ]
    rate_ratios = paired_ratios(column(imgopt, "rate"), column(bare, "rate"))
    cpu_ratios = paired_ratios(column(imgopt, "cpu_rate"), column(bare, "cpu_rate"))
    extra_ms = [1000 * (a["cpu"] - b["cpu"]) / count for a, b in zip(imgopt, bare, strict=True)]
    result.verdicts += [
        Verdict("imgopt / bare kernel images/s", median(rate_ratios), goal=Goal(">=", 0.9), samples=rate_ratios),
        Verdict(f"imgopt / bare kernel images per CPU-second ({cpu_label})", median(cpu_ratios), samples=cpu_ratios),
        Verdict("imgopt CPU beyond the kernel's, per image", median(extra_ms), "ms", samples=extra_ms),
    ]
    result.notes.append(f"every round checked: {_describe_all(checks)}; webhook signatures verified")
    result.details = {"images": count, "rounds": rounds, "workers": WORKERS, "checks": checks, "samples": samples}
    return result


def latency(quick: bool) -> Result:
    runs = 5 if quick else 20
    photo = corpus_dir() / LATENCY_PHOTO
    data = photo.read_bytes()
    result = Result(
        "latency",
        f"one-image CSV from upload until the signed webhook, {runs} runs, worker idle before each",
        method=(
            f"{LATENCY_PHOTO} from the corpus (1920x1080 JPEG, {len(data) / 1e3:.0f} kB), one product, one URL new to "
            f"every run, served by an origin on loopback; `imgopt serve` (IMGOPT_WORKER_CONCURRENCY="
            f"{SERVE_CONCURRENCY}, the default on {WORKERS} cores, "
            f"IMGOPT_WORKER_POLL_SECONDS={POLL_SECONDS:g}, the default) as a subprocess on a scratch database; clock "
            "from just before POST /upload (with webhookUrl) until the webhook's body has reached a receiver in the "
            "bench process; every webhook verified with `standardwebhooks` and checked to report the image optimized. "
            f"One untimed warm-up run. Before each run the previous delivery is recorded, then the bench waits "
            f"{SETTLE_SECONDS:g} s plus a share of the poll interval that steps by the golden ratio, so runs start at "
            "phases spread evenly over the worker's poll cycle: a start that waited for a poll tick instead of "
            f"LISTEN/NOTIFY would add {POLL_SECONDS / 2:g} s on average. The server's CPU time over the "
            f"{IDLE_PROBE_SECONDS * 1000:.0f} ms before each upload shows the worker was idle. Split: when each step "
            "happened from the clock's start (server timestamps from GET /status?details=true, same host and clock). "
            "Reference, timed after each run in the bench process while the server idles: the bare kernel, "
            "the default optimizer's .optimize(data, OptimizationOptions()) on the same bytes, one thread; ratios "
            "paired by run."
        ),
    )
    kernel = imgopt_optimizer(OptimizationOptions())
    kernel(data)
    samples: list[dict[str, float]] = []
    checks: list[dict] = []
    data_dir = fresh_data_dir("latency")
    with (
        scratch_database("latency") as database_url,
        Origin({LATENCY_PHOTO: data}) as origin,
        Receiver() as receiver,
        serve(database_url, "latency", worker_poll_seconds=f"{POLL_SECONDS:g}") as server,
    ):
        trips = Trips(server, origin, receiver, database_url, data_dir)
        trips.run("warm-up", [LATENCY_PHOTO], timeout=60)
        for index in range(runs):
            time.sleep(SETTLE_SECONDS + (index * GOLDEN % 1) * POLL_SECONDS - IDLE_PROBE_SECONDS)
            idle_start = server.cpu_seconds()
            time.sleep(IDLE_PROBE_SECONDS)
            idle_cpu = server.cpu_seconds() - idle_start
            trip = trips.run(f"run-{index}", [LATENCY_PHOTO], timeout=60)
            checks.append(trip.check)
            cpu_start, start = time.process_time(), time.perf_counter()
            kernel(data)
            kernel_seconds, kernel_cpu = time.perf_counter() - start, time.process_time() - cpu_start
            samples.append(
                {
                    **{key: value for key, value in trip.figures(1).items() if key.endswith("_s")},
                    "total_ms": trip.seconds * 1000,
                    "service_cpu_ms": 1000 * (trip.serve_cpu + (0.0 if trip.db_cpu is None else trip.db_cpu)),
                    "idle_cpu_ms": idle_cpu * 1000,
                    "kernel_ms": kernel_seconds * 1000,
                    "kernel_cpu_ms": kernel_cpu * 1000,
                }
            )
    totals = column(samples, "total_ms")
    kernel_ms = column(samples, "kernel_ms")
    result.measures += [
        *_split_measures(samples, "ms", 1000, percentiles=True),
        Measure("webhook arrived (the latency)", "p50 ms", median(totals), "ms", totals),
        Measure("webhook arrived (the latency)", "p95 ms", percentile(totals, 0.95), "ms"),
        Measure("bare kernel, same image, 1 thread", "p50 ms", median(kernel_ms), "ms", kernel_ms),
        Measure("bare kernel, same image, 1 thread", "p95 ms", percentile(kernel_ms, 0.95), "ms"),
    ]
    ratios = paired_ratios(totals, kernel_ms)
    # The server's and the database's CPU time is counted in 10 ms clock ticks, too coarse for one run's
    # few tens of ms: the CPU comparison is of means over all runs, not of per-run pairs.
    service_cpu = sum(column(samples, "service_cpu_ms")) / runs
    kernel_cpu = sum(column(samples, "kernel_cpu_ms")) / runs
    idle = column(samples, "idle_cpu_ms")
    result.verdicts += [
        Verdict("upload to webhook, p50", median(totals), "ms", Goal("<", 300), samples=totals),
        Verdict("upload to webhook, p95", percentile(totals, 0.95), "ms"),
        Verdict("upload to webhook / bare kernel time, paired per run", median(ratios), samples=ratios),
        Verdict("service CPU per upload (serve + database), mean", service_cpu, "ms"),
        Verdict("service CPU per upload / kernel CPU, means over the runs", service_cpu / kernel_cpu),
    ]
    result.notes += [
        f"worker poll interval in effect: {POLL_SECONDS:g} s; slowest run {max(totals):.0f} ms",
        f"server CPU in the {IDLE_PROBE_SECONDS * 1000:.0f} ms before each upload (10 ms clock ticks): "
        f"{sum(1 for value in idle if value == 0)} of {runs} runs read none, the most read {max(idle):.0f} ms",
        f"every run checked: {_describe_all(checks)}; webhook signatures verified",
    ]
    result.details = {
        "runs": runs,
        "poll_seconds": POLL_SECONDS,
        "workers": WORKERS,
        "photo": LATENCY_PHOTO,
        "checks": checks,
        "samples": samples,
    }
    return result


@dataclass
class _Trip:
    """One upload followed to its webhook, on the bench's clocks and the server's."""

    seconds: float  # from just before POST /upload until the webhook's body was read
    upload_seconds: float  # until the 202 answer
    wall_start: float  # time.time() at the start, to set the server's timestamps against
    status: dict  # GET /status/{id}?details=true once the delivery is recorded
    serve_cpu: float
    db_cpu: float | None
    bench_cpu: float
    check: dict

    def figures(self, count: int) -> dict[str, float]:
        delivery = self.status["details"]["webhookDeliveries"][0]

        def since_start(stamp: str) -> float:
            return datetime.fromisoformat(stamp).timestamp() - self.wall_start

        service_cpu = self.serve_cpu + (0.0 if self.db_cpu is None else self.db_cpu)
        database = {} if self.db_cpu is None else {"db_cpu": self.db_cpu}
        return {
            "rate": count / self.seconds,
            "cpu_rate": count / service_cpu,
            "seconds": self.seconds,
            "cpu": service_cpu,
            "serve_cpu": self.serve_cpu,
            **database,
            "bench_cpu": self.bench_cpu,
            "upload_s": self.upload_seconds,
            "created_s": since_start(self.status["createdAt"]),
            "started_s": since_start(self.status["startedAt"]),
            "finished_s": since_start(self.status["finishedAt"]),
            "sent_s": since_start(delivery["log"][0]["at"]),
        }


class Trips:
    """Uploads CSVs of named images to the server and follows each to its verified webhook."""

    def __init__(
        self, server: ServerProcess, origin: Origin, receiver: Receiver, database_url: str, data_dir: Path
    ) -> None:
        self._server = server
        self._origin = origin
        self._receiver = receiver
        self._database_url = database_url
        self._files = data_dir / "files"
        self._client = httpx.Client(base_url=server.url, timeout=120)

    def upload(self, label: str, names: list[str], webhook: bool = True) -> dict:
        """POST /upload of `names` under a URL prefix of their own; the receipt."""
        csv = csv_of(f"{self._origin.base_url}/{label}", names)
        data = {"webhookUrl": f"{self._receiver.base_url}/hooks/{label}"} if webhook else {}
        response = self._client.post("/upload", files={"file": ("products.csv", csv, "text/csv")}, data=data)
        if response.status_code != 202 or response.json().get("images") != len(names):
            raise RuntimeError(f"{label}: the upload answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def run(self, label: str, names: list[str], timeout: float) -> _Trip:
        expected = self._receiver.count + 1
        serve_cpu, db_cpu, bench_cpu = self._server.cpu_seconds(), backend_cpu(self._database_url), time.process_time()
        wall_start, start = time.time(), time.perf_counter()
        receipt = self.upload(label, names)
        upload_seconds = time.perf_counter() - start
        arrival = self._receiver.wait(expected, timeout)
        if arrival is None:
            raise RuntimeError(f"{label}: no webhook within {timeout:g} s; server log: {self._server.log_tail()}")
        bench_cpu = time.process_time() - bench_cpu
        serve_cpu = self._server.cpu_seconds() - serve_cpu
        db_cpu = backend_cpu_used(db_cpu, backend_cpu(self._database_url))
        check = self._check(label, receipt, arrival, len(names))
        status = self._delivered(receipt["requestId"])
        shutil.rmtree(self._files / receipt["requestId"], ignore_errors=True)
        return _Trip(arrival.at - start, upload_seconds, wall_start, status, serve_cpu, db_cpu, bench_cpu, check=check)

    def _check(self, label: str, receipt: dict, arrival: Arrival, count: int) -> dict:
        """The webhook verified and reporting every image optimized; anything else stops the measurement."""
        payload = standardwebhooks.Webhook(receipt["webhook"]["secret"]).verify(arrival.body, arrival.headers)
        data = payload["data"]
        check = {
            "requestId": data["requestId"],
            "type": payload["type"],
            "status": data["status"],
            "images": data["images"]["total"],
            "optimized": data["images"]["optimized"],
            "failed": data["images"]["failed"],
        }
        expected = {"requestId": receipt["requestId"], "type": "request.completed", "status": "completed"}
        if any(check[key] != value for key, value in expected.items()) or check["optimized"] != count:
            reasons = self._failure_reasons(receipt["requestId"])
            raise RuntimeError(f"{label}: the webhook reported {check}, expected all {count} optimized; {reasons}")
        return check

    def _delivered(self, request_id: str) -> dict:
        """The status with details once the delivery's attempt is logged (it is written after the receiver answers)."""
        deadline = time.monotonic() + 30
        while True:
            status = self._client.get(f"/status/{request_id}", params={"details": "true"}).raise_for_status().json()
            deliveries = status["details"]["webhookDeliveries"]
            if deliveries and deliveries[0]["status"] == "delivered" and deliveries[0]["log"]:
                return status
            if time.monotonic() > deadline:
                raise RuntimeError(f"the delivery of {request_id} was not recorded within 30 s: {deliveries}")
            time.sleep(0.02)

    def _failure_reasons(self, request_id: str) -> str:
        status = self._client.get(f"/status/{request_id}", params={"details": "true"}).json()
        failed = [
            f"{image['inputUrl']}: {image.get('failureReason')}"
            for product in status.get("details", {}).get("products", [])
            for image in product["images"]
            if image["status"] != "optimized"
        ]
        return f"{len(failed)} not optimized, e.g. {failed[:3]}"


def csv_of(base_url: str, names: list[str]) -> bytes:
    """The original's format, two image URLs per product (one in the last row when the count is odd).

    Every image has a URL of its own (`{base_url}/{position}/{name}`; the origin serves `name`), even
    where `names` repeats a photo: imgopt fetches and optimizes one URL once per upload and reuses
    its output for the rest, which would measure that reuse rather than the work.
    """
    lines = [",".join(HEADER)]
    for serial, first in enumerate(range(0, len(names), 2), start=1):
        pair = enumerate(names[first : first + 2], start=first)
        urls = ",".join(f"{base_url}/{position}/{name}" for position, name in pair)
        lines.append(f'{serial},Product {serial},"{urls}"')
    return ("\n".join(lines) + "\n").encode()


def serve(database_url: str, name: str, environment: dict[str, str] | None = None, **settings: str) -> ServerProcess:
    # The origin and the receiver are on loopback, which the service refuses unless told otherwise.
    return imgopt_serve(
        database_url,
        name,
        environment,
        worker_concurrency=str(SERVE_CONCURRENCY),
        allow_private_networks="true",
        **settings,
    )


def fresh_data_dir(name: str) -> Path:
    folder = WORK / "data" / name
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def _rate_measures(subject: str, samples: list[dict[str, float]], checked: int | None = None) -> list[Measure]:
    rates, cpu_rates = column(samples, "rate"), column(samples, "cpu_rate")
    measures = [
        Measure(subject, "images/s", median(rates), "img/s", rates),
        Measure(subject, "per CPU-s", median(cpu_rates), "img/CPU-s", cpu_rates),
        Measure(subject, "seconds", median(column(samples, "seconds")), "s"),
        Measure(subject, "CPU-s", median(column(samples, "cpu")), "s"),
    ]
    if checked is not None:
        measures.append(Measure(subject, "images ok", checked, note="per round, all optimized"))
    return measures


SPLIT = (
    ("upload_s", "  upload answered (202)"),
    ("created_s", "  rows stored (createdAt)"),
    ("started_s", "  first image claimed (startedAt)"),
    ("finished_s", "  last image recorded (finishedAt)"),
    ("sent_s", "  webhook sent (attempt at)"),
)


def _split_measures(
    samples: list[dict[str, float]], unit: str, scale: float, percentiles: bool = False
) -> list[Measure]:
    measures = []
    for key, label in SPLIT:
        values = [value * scale for value in column(samples, key)]
        if percentiles:
            measures += [
                Measure(label, "p50 ms", median(values), unit, values),
                Measure(label, "p95 ms", percentile(values, 0.95), unit),
            ]
        else:
            measures.append(Measure(label, "seconds", median(values), unit, values))
    return measures


def _describe(check: dict) -> str:
    return f"{check['optimized']}/{check['images']} optimized, {check['failed']} failed, {check['status']}"


def _describe_all(checks: list[dict]) -> str:
    described = {_describe(check) for check in checks}
    return f"{len(checks)} x " + " / ".join(sorted(described)) if described else "none"
