"""Simulated worker hosts on one scratch database: their processes, a step of uploads for them, what it cost."""

import io
import json
import subprocess
import sys
from dataclasses import dataclass

from bench import images
from bench.database import backend_cpu, backend_cpu_used, empty_tables
from bench.pipeline import csv_of
from bench.workspace import ROOT, work_dir
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID


@dataclass
class Sample:
    """One step: images done, wall seconds, transactions, CPU of the hosts and of the database (None: not known)."""

    images: int
    seconds: float
    claims: int
    records: int
    host_cpu: float
    db_cpu: float | None

    @property
    def rate(self) -> float:
        return self.images / self.seconds


def run_step(container, engine, database_url: str, hosts: list["Host"], uploads: list[int], origin: str = "") -> Sample:
    """Empty the tables, upload `uploads` (image counts) through the use case, let `hosts` work until all
    have finished; the origin, when given, serves the photos the URLs name."""
    empty_tables(engine)
    variants = [path.name for path in images.photo_variants(8)]
    ingest = container.use_cases.ingest_csv()
    requests = []
    for index, size in enumerate(uploads):
        # Distinct URLs; the origin answers by the last segment, so each is one of the variants.
        names = [f"{number}/{variants[number % len(variants)]}" for number in range(size)]
        csv = csv_of(f"{origin or 'http://origin.test'}/upload-{index}", names)
        requests.append(str(ingest(ANONYMOUS_TENANT_ID, io.BytesIO(csv)).request_id))
    before = backend_cpu(database_url)
    for host in hosts:
        host.go(requests)
    reports = [host.report() for host in hosts]
    db_cpu = backend_cpu_used(before, backend_cpu(database_url))
    return Sample(
        images=sum(uploads),
        seconds=max(report["end"] for report in reports) - min(report["start"] for report in reports),
        claims=sum(report["claims"] for report in reports),
        records=sum(report["records"] for report in reports),
        host_cpu=sum(report["cpu"] for report in reports),
        db_cpu=db_cpu,
    )


class Host:
    """A `bench.host` process: told which uploads to work on, it answers with what it did."""

    def __init__(self, database_url: str, fetch: str, pace: float = 0.0) -> None:
        """`fetch`: "memory" or "network"; `pace`: seconds the optimizer sleeps per image (0: none)."""
        data_dir = str(work_dir("data", "capacity"))
        self._argv = [sys.executable, "-m", "bench.host", database_url, data_dir, fetch, str(pace)]
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "Host":
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
