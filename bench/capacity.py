"""Queue capacity: simulated hosts, an instant optimizer, one PostgreSQL; how many real hosts it can feed."""

import time
from contextlib import ExitStack

from bench import images
from bench.database import scratch_database
from bench.endpoints import Origin
from bench.host import CONCURRENCY
from bench.hosts import Host, Sample, run_step
from bench.result import Measure, Result, Verdict
from bench.subjects import imgopt_optimizer
from bench.workspace import work_dir
from imgopt.adapters.postgres.engine import migrate
from imgopt.bootstrap.containers import create_container
from imgopt.bootstrap.settings import Settings
from imgopt.domain.options import OptimizationOptions


def queue_capacity(quick: bool) -> Result:
    steps, count, fetched_count = ((1, 2), 200, 10) if quick else ((1, 2, 4, 8, 16), 8_000, 200)
    result = Result(
        "queue-capacity",
        f"{'/'.join(map(str, steps))} simulated hosts with an instant optimizer against one PostgreSQL",
        method=(
            f"Each simulated host is a process running the worker's real image path (`bench/host.py`: ImageRunner "
            f"claiming, processing on threads and recording in batches, IMGOPT_WORKER_CONCURRENCY={CONCURRENCY}, one "
            "per core) against one scratch database, with the optimizer replaced by a fake of its port that "
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
            "photos from an origin on loopback, its optimizer sleeping the kernel's time per image (one per core "
            "at a time, as the real one) so that it claims and records at a real host's pace: its CPU per image "
            "is what a real host spends outside the optimizer, on the queue, the download and the storage."
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
        hosts = [stack.enter_context(Host(database_url, "memory")) for _ in range(max(steps))]
        for host in hosts:
            host.wait_ready()
        samples = {}
        for step in steps:
            samples[step] = run_step(container, engine, database_url, hosts[:step], [count])
        crowd = run_step(container, engine, database_url, hosts, [count // len(hosts)] * len(hosts))
        origin = stack.enter_context(Origin({path.name: path.read_bytes() for path in images.photo_variants(8)}))
        fetching = stack.enter_context(Host(database_url, "network", pace=kernel_seconds))
        fetching.wait_ready()
        fetched = run_step(container, engine, database_url, [fetching], [fetched_count], origin.base_url)
    result.measures += [measure for step, sample in samples.items() for measure in _measures(f"{step} host(s)", sample)]
    result.measures += _measures(f"{len(hosts)} hosts, {len(hosts)} uploads", crowd)
    result.measures += _measures("1 host at a real one's pace, real fetch from loopback + storage", fetched)
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


def _measures(subject: str, sample: Sample) -> list[Measure]:
    per_image = lambda seconds: None if seconds is None else 1000 * seconds / sample.images  # noqa: E731
    return [
        Measure(subject, "images/s", sample.rate, "img/s"),
        Measure(subject, "claims/s", sample.claims / sample.seconds, "/s"),
        Measure(subject, "records/s", sample.records / sample.seconds, "/s"),
        Measure(subject, "images per claim", sample.images / sample.claims),
        Measure(subject, "database CPU per image", per_image(sample.db_cpu), "ms"),
        Measure(subject, "hosts' CPU per image", per_image(sample.host_cpu), "ms"),
    ]


def _kernel_cpu_seconds(count: int) -> float:
    kernel = imgopt_optimizer(OptimizationOptions())
    data = [path.read_bytes() for path in images.photo_variants(count)]
    kernel(data[0])
    start = time.process_time()
    for item in data:
        kernel(item)
    return (time.process_time() - start) / count
