"""Queue capacity: simulated hosts, an instant optimizer, one PostgreSQL; how many real hosts it can feed."""

import io
import json
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass

from sqlalchemy import text

from bench import images
from bench.database import backend_cpu, backend_cpu_used, scratch_database
from bench.endpoints import Origin
from bench.host import CONCURRENCY
from bench.pipeline import csv_of
from bench.result import Measure, Result, Verdict
from bench.subjects import imgopt_optimizer
from bench.workspace import ROOT, work_dir
from imgopt.adapters.postgres.engine import migrate
from imgopt.bootstrap.containers import create_container
from imgopt.bootstrap.settings import Settings
from imgopt.domain.options import OptimizationOptions

TABLES = "images.webhookattempts, images.webhookdeliveries, images.webhookurls, images.optimizerjobs, " + (
    "images.productimages, images.requests"
)


def queue_capacity(quick: bool) -> Result:
    steps, count, fetched_count = ((1, 2), 200, 10) if quick else ((1, 2, 4, 8, 16), 8_000, 200)
    result = Result(
        "queue-capacity",
        f"{'/'.join(map(str, steps))} simulated hosts with an instant optimizer against one PostgreSQL",
        method=(
            f"Each simulated host is a process running the worker's real image path (`bench/host.py`: ImageRunner "
            f"claiming, processing on threads and recording in batches, IMGOPT_WORKER_CONCURRENCY={CONCURRENCY} as "
            "on a 2-core host) against one scratch database, with the optimizer replaced by a fake of its port that "
            "answers at once, the fetcher by one that answers every URL at once with 100 kB (an origin on loopback "
            "would have made the bench's own HTTP serving the bottleneck, not the database), and the real filesystem "
            f"storage. For each step, a {count:,}-image upload ({count // 2:,} products x 2 URLs, through the use "
            "case) into emptied tables, then the hosts start together and work until it has finished. Claims and "
            "records are transactions counted by the hosts; database CPU = the CPU time of the PostgreSQL backends "
            "serving the database (from /proc); hosts' CPU = their process time. Every host and the database share "
            "this machine's cores, so throughput stops growing once they are busy: the figure that carries to a "
            "real deployment is the database's CPU per image, set against the kernel's CPU per image measured in "
            "the same run (imgopt's optimizer on the corpus photo variants, one thread). A last step gives the 16 "
            f"hosts 16 uploads at once. Beside it, one host with the real fetcher downloads {fetched_count} 1 MB "
            "photos from an origin on loopback: its CPU per image outside the optimizer is what a real host spends "
            "on the queue, the download and the storage."
        ),
    )
    kernel_seconds = _kernel_cpu_seconds(2 if quick else 20)
    database_url = None
    with ExitStack() as stack:
        database_url = stack.enter_context(scratch_database("capacity"))
        settings = Settings(database_url=database_url, data_dir=work_dir("data", "capacity"))
        container = create_container(settings)
        stack.callback(container.shutdown_resources)
        engine = container.persistence.engine()
        migrate(engine)
        hosts = [stack.enter_context(_Host(database_url, "memory")) for _ in range(max(steps))]
        for host in hosts:
            host.wait_ready()
        samples = {}
        for step in steps:
            samples[step] = _run(container, engine, database_url, hosts[:step], [count])
        crowd = _run(container, engine, database_url, hosts, [count // len(hosts)] * len(hosts))
        origin = stack.enter_context(Origin({path.name: path.read_bytes() for path in images.photo_variants(8)}))
        fetching = stack.enter_context(_Host(database_url, "network"))
        fetching.wait_ready()
        fetched = _run(container, engine, database_url, [fetching], [fetched_count], origin.base_url)
    result.measures += [measure for step, sample in samples.items() for measure in _measures(f"{step} host(s)", sample)]
    result.measures += _measures(f"{len(hosts)} hosts, {len(hosts)} uploads", crowd)
    result.measures += _measures("1 host, real fetch from loopback + storage", fetched)
    result.measures.append(
        Measure("kernel: optimizer CPU per image (corpus photo)", "CPU ms", 1000 * kernel_seconds, "ms")
    )
    base, top = samples[steps[0]], samples[steps[-1]]
    host_rate = CONCURRENCY / kernel_seconds
    result.verdicts += [
        Verdict(f"images/s, {steps[-1]} hosts / 1 host", top.rate / base.rate),
        Verdict(
            "host CPU per image outside the optimizer (real fetch, storage, queue)",
            1000 * fetched.host_cpu / fetched.images,
            "ms",
        ),
        Verdict(f"a real {CONCURRENCY}-core host at the kernel's speed", host_rate, "images/s"),
    ]
    for label, sample in (
        (f"{steps[-1]} hosts, one upload", top),
        (f"{len(hosts)} hosts, {len(hosts)} uploads", crowd),
    ):
        per_image = None if sample.db_cpu is None else sample.db_cpu / sample.images
        result.verdicts += [
            Verdict(f"database CPU per image, {label}", None if per_image is None else 1000 * per_image, "ms"),
            Verdict(
                f"real hosts one database core feeds, {label}",
                None if per_image is None else 1 / (per_image * host_rate),
                "hosts",
            ),
        ]
    result.details = {
        "steps": {str(step): sample.__dict__ for step, sample in samples.items()},
        "crowd": crowd.__dict__,
    }
    return result


@dataclass
class _Sample:
    images: int
    seconds: float
    claims: int
    records: int
    host_cpu: float
    db_cpu: float | None

    @property
    def rate(self) -> float:
        return self.images / self.seconds


def _measures(subject: str, sample: _Sample) -> list[Measure]:
    per_image = lambda seconds: None if seconds is None else 1000 * seconds / sample.images  # noqa: E731
    return [
        Measure(subject, "images/s", sample.rate, "img/s"),
        Measure(subject, "claims/s", sample.claims / sample.seconds, "/s"),
        Measure(subject, "records/s", sample.records / sample.seconds, "/s"),
        Measure(subject, "images per claim", sample.images / sample.claims),
        Measure(subject, "database CPU per image", per_image(sample.db_cpu), "ms"),
        Measure(subject, "hosts' CPU per image", per_image(sample.host_cpu), "ms"),
    ]


def _run(container, engine, database_url: str, hosts: list["_Host"], uploads: list[int], origin: str = "") -> _Sample:
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLES}"))
    variants = [path.name for path in images.photo_variants(8)]
    ingest = container.use_cases.ingest_csv()
    requests = []
    for index, size in enumerate(uploads):
        # Distinct URLs; the origin answers by the last segment, so each is one of the variants.
        names = [f"{number}/{variants[number % len(variants)]}" for number in range(size)]
        csv = csv_of(f"{origin or 'http://origin.test'}/upload-{index}", names)
        requests.append(str(ingest(io.BytesIO(csv)).request_id))
    before = backend_cpu(database_url)
    for host in hosts:
        host.go(requests)
    reports = [host.report() for host in hosts]
    db_cpu = backend_cpu_used(before, backend_cpu(database_url))
    return _Sample(
        images=sum(uploads),
        seconds=max(report["end"] for report in reports) - min(report["start"] for report in reports),
        claims=sum(report["claims"] for report in reports),
        records=sum(report["records"] for report in reports),
        host_cpu=sum(report["cpu"] for report in reports),
        db_cpu=db_cpu,
    )


class _Host:
    """A `bench.host` process: told which uploads to work on, it answers with what it did."""

    def __init__(self, database_url: str, fetch: str, pace: float = 0.0) -> None:
        data_dir = str(work_dir("data", "capacity"))
        self._argv = [sys.executable, "-m", "bench.host", database_url, data_dir, fetch, str(pace)]
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "_Host":
        self._process = subprocess.Popen(
            self._argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def wait_ready(self) -> None:
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a simulated host did not start (exit status {self._process.poll()})")

    def go(self, requests: list[str]) -> None:
        self._process.stdin.write(json.dumps(requests) + "\n")

    def report(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"a simulated host stopped (exit status {self._process.wait()})")
        return json.loads(line)


def _kernel_cpu_seconds(count: int) -> float:
    kernel = imgopt_optimizer(OptimizationOptions())
    data = [path.read_bytes() for path in images.photo_variants(count)]
    kernel(data[0])
    start = time.process_time()
    for item in data:
        kernel(item)
    return (time.process_time() - start) / count
