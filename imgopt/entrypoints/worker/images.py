"""Keep the worker's threads busy with images: claim, process on a pool, record in small batches."""

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from threading import Event

from imgopt.adapters.metrics.worker import WorkerMetrics
from imgopt.application.ports import Unavailable
from imgopt.application.use_cases.claiming import ClaimImages, ReleaseImages
from imgopt.application.use_cases.processing import ProcessImage
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.image_jobs import ImageJob, ImageOutcome
from imgopt.entrypoints.worker.batch import OutcomeBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImageRunnerOptions:
    concurrency: int
    worker_id: str = ""  # for the log lines
    # Outcomes are written in groups (fewer transactions per image); one that may finish its
    # request is written at once (see OutcomeBatch), so no uploader waits on the grouping.
    record_after: float = 0.25
    stop_grace: float = 10.0

    @property
    def threads(self) -> int:
        """Threads working on images: while `concurrency` of them optimize, as many more download."""
        return 2 * self.concurrency

    @property
    def claim_when_idle(self) -> int:
        """Idle threads worth a claim: as many as optimize at once, so claims come in groups.

        A download takes a few milliseconds against tens for an optimization, so the images still
        running keep every optimizer busy meanwhile; claiming for each thread as it came free cost
        a database round trip per image.
        """
        return self.concurrency


class ImageRunner:
    """Drain the queue of due images, keeping every thread busy, then return.

    It claims only as many images as it has idle threads, once as many are idle as optimize at
    once, so every image it holds has been started: a claim counts an attempt, and a worker that
    dies must not charge one to images it never began. Outcomes the database could not take (it
    was away) stay with the runner, with the images still running, and the next drain records
    them first; their lease still guards them, so none is lost and none counted twice. When
    `stop` is set it claims nothing more, waits `stop_grace` seconds for the images that are
    running, records them, and hands the rest back to the queue.
    """

    def __init__(
        self,
        claim: ClaimImages,
        process: ProcessImage,
        record: RecordOutcomes,
        release: ReleaseImages,
        options: ImageRunnerOptions,
        metrics: WorkerMetrics,
    ) -> None:
        self._claim = claim
        self._process = process
        self._release = release
        self._options = options
        self._metrics = metrics
        self._batch = OutcomeBatch(record, options.record_after, metrics.recorded)
        self._running: dict[Future[ImageOutcome], ImageJob] = {}
        self._pool = ThreadPoolExecutor(options.threads, thread_name_prefix="imgopt-image")
        self._report()

    def drain(self, stop: Event) -> int:
        """Process until nothing is due (or `stop` is set); return how many outcomes were recorded."""
        recorded_before = self._batch.recorded
        self._batch.flush()
        queue_empty = False
        while True:
            idle = self._options.threads - len(self._running)
            if idle >= self._options.claim_when_idle and not stop.is_set() and not queue_empty:
                jobs = self._claim(idle)
                queue_empty = len(jobs) < idle
                self._running.update((self._pool.submit(self._process, job), job) for job in jobs)
                self._report()
            if not self._running:
                break
            finished, _ = wait(self._running, timeout=self._options.record_after, return_when=FIRST_COMPLETED)
            queue_empty = queue_empty and not finished  # a finished image may have been the last of a claim
            self._collect(finished)
            if stop.is_set():
                self._wind_down()
                break
            if self._batch.due(idle=not self._running):
                self._batch.flush()
        self._batch.flush()
        return self._batch.recorded - recorded_before

    def close(self) -> None:
        """Record or release what an interrupted drain left (the worker stopped while the database was away)."""
        if self._running or self._batch.waiting:
            self._wind_down()
        # Not waiting: the runner has recorded or released its jobs; a download still running ends
        # when the fetcher's connections are closed, right after.
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _collect(self, finished: set[Future[ImageOutcome]]) -> None:
        for future in finished:
            self._batch.add(future.result(), finishing=self._running.pop(future).finishing)
        self._report()

    def _wind_down(self) -> None:
        context = {"worker_id": self._options.worker_id}
        grace, running = self._options.stop_grace, len(self._running)
        log.info("stopping: waiting up to %ss for %d running images", grace, running, extra=context)
        finished, unfinished = wait(self._running, timeout=self._options.stop_grace)
        self._collect(finished)
        try:
            recorded = self._batch.waiting
            self._batch.flush()
            self._release(list(self._running.values()))
        except Unavailable as error:
            waiting, running = self._batch.waiting, len(self._running)
            message = "stopping: %s; %d results and %d running images stay claimed until their lease ends"
            log.warning(message, error, waiting, running, extra=context)
            return
        log.info("stopping: recorded %d images, releasing %d", recorded, len(unfinished), extra=context)
        self._running.clear()

    def _report(self) -> None:
        self._metrics.images_in_flight(len(self._running), self._options.threads)
