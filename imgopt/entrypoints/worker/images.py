"""Keep the worker's threads busy with images: claim, process on a pool, record in small batches."""

import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from threading import Event

from imgopt.application.use_cases.claiming import ClaimImages, ReleaseImages
from imgopt.application.use_cases.processing import ProcessImage
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.model import ImageJob, ImageOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImageRunnerOptions:
    concurrency: int
    # Outcomes are written in groups; a lone image is written at once, so latency stays low.
    record_after: float = 0.1
    stop_grace: float = 10.0

    @property
    def threads(self) -> int:
        """Threads working on images: while `concurrency` of them optimize, as many more download."""
        return 2 * self.concurrency

    @property
    def held(self) -> int:
        """Jobs claimed at once; the ones no thread has started yet wait under their lease, costing no memory."""
        return 4 * self.concurrency


class ImageRunner:
    """Drain the queue of due images, keeping every thread busy, then return.

    When `stop` is set it claims nothing more, waits `stop_grace` seconds for the images that
    are running, records them, and hands the rest back to the queue.
    """

    def __init__(
        self,
        claim: ClaimImages,
        process: ProcessImage,
        record: RecordOutcomes,
        release: ReleaseImages,
        options: ImageRunnerOptions,
    ) -> None:
        self._claim = claim
        self._process = process
        self._release = release
        self._options = options
        self._batch = _Batch(record, options.record_after)
        self._pool = ThreadPoolExecutor(options.threads, thread_name_prefix="imgopt-image")

    def drain(self, stop: Event) -> int:
        """Process until nothing is due (or `stop` is set); return how many outcomes were recorded."""
        running: dict[Future[ImageOutcome], ImageJob] = {}
        recorded_before = self._batch.recorded
        queue_empty = False
        while True:
            if not stop.is_set() and not queue_empty and len(running) <= self._options.threads:
                wanted = self._options.held - len(running)
                jobs = self._claim(wanted)
                queue_empty = len(jobs) < wanted
                running.update((self._pool.submit(self._process, job), job) for job in jobs)
            if not running:
                break
            finished, _ = wait(running, timeout=self._options.record_after, return_when=FIRST_COMPLETED)
            queue_empty = queue_empty and not finished  # a finished image may have been the last of a claim
            for future in finished:
                self._batch.add(future.result())
                del running[future]
            if stop.is_set():
                self._wind_down(running)
                break
            if self._batch.due(idle=not running):
                self._batch.flush()
        self._batch.flush()
        return self._batch.recorded - recorded_before

    def close(self) -> None:
        # Not waiting: the runner has recorded or released its jobs; a download still running ends
        # when the fetcher's connections are closed, right after.
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _wind_down(self, running: dict[Future[ImageOutcome], ImageJob]) -> None:
        log.info("stopping: waiting up to %ss for %d running images", self._options.stop_grace, len(running))
        finished, unfinished = wait(running, timeout=self._options.stop_grace)
        for future in finished:
            self._batch.add(future.result())
        self._batch.flush()
        log.info("stopping: recorded %d images, releasing %d", len(finished), len(unfinished))
        self._release([running[future] for future in unfinished])


class _Batch:
    """Outcomes waiting to be recorded: written together once the first has waited `max_wait` seconds,
    or at once when nothing else is running."""

    def __init__(self, record: RecordOutcomes, max_wait: float) -> None:
        self._record = record
        self._max_wait = max_wait
        self._outcomes: list[ImageOutcome] = []
        self._first_at = 0.0
        self.recorded = 0

    def add(self, outcome: ImageOutcome) -> None:
        if not self._outcomes:
            self._first_at = time.monotonic()
        self._outcomes.append(outcome)

    def due(self, idle: bool) -> bool:
        return bool(self._outcomes) and (idle or time.monotonic() - self._first_at >= self._max_wait)

    def flush(self) -> None:
        if self._outcomes:
            self.recorded += self._record(self._outcomes)
            self._outcomes = []
