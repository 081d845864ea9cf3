"""A simulated worker host for the queue measurements: `python -m bench.host DATABASE_URL DATA_DIR FETCH PACE`.

It runs the worker's real image path (ImageRunner: claim, process on threads, record in batches)
with IMGOPT_WORKER_CONCURRENCY=2, one optimization per core of a 2-core host (the service's own
default there is one more), but with the optimizer replaced by one
that answers at once (PACE 0) or after PACE seconds of sleep, one image per core at a time as the
real one; when FETCH is `memory`, the fetcher answers at once too (`network` keeps the real one).
It prints `ready`, then for each line of request ids on stdin works until they have all finished
and prints what it did as one JSON line; it exits when stdin closes.
"""

import json
import resource
import sys
import threading
import time
from pathlib import Path
from uuid import UUID

from dependency_injector import providers

from bench.instant import InstantOptimizer, MemoryFetcher, PacedOptimizer
from imgopt.adapters.imaging.cpu_slots import CpuBoundOptimizer
from imgopt.bootstrap.containers import create_container
from imgopt.bootstrap.settings import Settings
from imgopt.bootstrap.tuning import keep_freed_memory
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from imgopt.entrypoints.worker.images import ImageRunner, ImageRunnerOptions

CONCURRENCY = 2
FETCHED = bytes(100_000)  # a typical product photo's size; only bytes_in sees it
IDLE_SECONDS = 0.01  # how long a host with nothing due waits before asking again
STEP_SECONDS = 300  # a step not finished by then is broken (a quick step takes seconds): the host stops, loudly


class Counted:
    """A use case that counts its calls and the items they took or returned."""

    def __init__(self, use_case, count_result: bool) -> None:
        self._use_case = use_case
        self._count_result = count_result
        self.calls = 0
        self.items = 0

    def __call__(self, argument, *rest):
        result = self._use_case(argument, *rest)
        self.calls += 1
        self.items += len(result) if self._count_result else len(argument)
        return result


def main(database_url: str, data_dir: str, fetch: str, pace: str) -> None:
    keep_freed_memory()  # as `imgopt worker` does
    settings = Settings(
        database_url=database_url,
        data_dir=Path(data_dir),
        worker_concurrency=CONCURRENCY,
        allow_private_networks=True,
    )
    container = create_container(settings)
    seconds = float(pace)
    optimizer = CpuBoundOptimizer(PacedOptimizer(seconds), CONCURRENCY) if seconds else InstantOptimizer()
    container.imaging.optimizer.override(providers.Object(optimizer))
    if fetch == "memory":
        container.network.fetcher.override(providers.Object(MemoryFetcher(FETCHED)))
    use_cases = container.use_cases
    claim, record = Counted(use_cases.claim_images(), True), Counted(use_cases.record_outcomes(), False)
    runner = ImageRunner(
        claim,
        use_cases.process_image(),
        record,
        use_cases.release_images(),
        use_cases.extend_leases(),
        ImageRunnerOptions(CONCURRENCY, downloads=2 * CONCURRENCY, tenant_downloads=2 * CONCURRENCY),
        container.telemetry.worker(),
    )
    status = use_cases.get_status()
    stop = threading.Event()
    print("ready", flush=True)
    for line in sys.stdin:
        requests = [UUID(value) for value in json.loads(line)]
        before = _counts(claim, record)
        cpu, faults, start = time.process_time(), _page_faults(), time.time()
        while not all(status(ANONYMOUS_TENANT_ID, request).summary.status.is_terminal for request in requests):
            if time.time() - start > STEP_SECONDS:
                sys.exit(f"the uploads were not finished after {STEP_SECONDS} s (see the errors above)")
            if not runner.drain(stop):
                time.sleep(IDLE_SECONDS)
        done = {key: value - before[key] for key, value in _counts(claim, record).items()}
        spent = {"cpu": time.process_time() - cpu, "faults": _page_faults() - faults}
        print(json.dumps({**done, **spent, "start": start, "end": time.time()}), flush=True)
    runner.close()
    container.shutdown_resources()


def _page_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _counts(claim: Counted, record: Counted) -> dict[str, int]:
    return {"claims": claim.calls, "claimed": claim.items, "records": record.calls, "recorded": record.items}


if __name__ == "__main__":
    main(*sys.argv[1:5])
