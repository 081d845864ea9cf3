"""Process images: claim, fetch, optimize, store, record; finish requests and queue their webhooks."""

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Event

from imgopt.application.ports import (
    Clock,
    FetchFailed,
    ImageFetcher,
    ImageOptimizer,
    ImageStorage,
    OptimizeFailed,
    StorageFailed,
    UnitOfWorkFactory,
)
from imgopt.application.use_cases.announcement import Announcer
from imgopt.domain.model import ImageFailure, ImageJob, ImageOutcome, RetryPolicy, StoredImage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    worker_id: str
    concurrency: int
    lease: timedelta = timedelta(minutes=5)
    retry: RetryPolicy = RetryPolicy()
    # Outcomes are written in groups; a lone image is written at once, so latency stays low.
    record_after: timedelta = timedelta(milliseconds=100)
    # Expired leases are rare (a worker died); looking for them on every claim would cost a statement each time.
    reclaim_every: timedelta = timedelta(seconds=2)
    stop_grace: timedelta = timedelta(seconds=10)

    @property
    def threads(self) -> int:
        """Threads working on images: while `concurrency` of them optimize, as many more download."""
        return 2 * self.concurrency

    @property
    def held(self) -> int:
        """Jobs claimed at once; the ones no thread has started yet wait under their lease, costing no memory."""
        return 4 * self.concurrency


class ProcessImages:
    """Drain the queue of due images, keeping a few in flight on the executor, then return.

    Jobs are claimed under a lease, so any number of workers share the queue; outcomes are
    recorded with a guard on the lease, so a job that another worker reclaimed is never
    recorded twice. When the last image of a request is recorded, the same transaction
    finishes the request and puts its webhook deliveries in the outbox. If `stop` is set the
    worker claims nothing more, waits `stop_grace` for what is running, and releases the rest.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        fetcher: ImageFetcher,
        optimizer: ImageOptimizer,
        storage: ImageStorage,
        clock: Clock,
        announcer: Announcer,
        executor: Executor,
        options: WorkerOptions,
    ) -> None:
        self._uow = uow
        self._fetcher = fetcher
        self._optimizer = optimizer
        self._storage = storage
        self._clock = clock
        self._announcer = announcer
        self._executor = executor
        self._options = options
        # The executor has `threads` threads; only `concurrency` of them optimize at once.
        self._cpu = threading.BoundedSemaphore(options.concurrency)

    def __call__(self, stop: Event | None = None) -> int:
        """Process until nothing is due (or `stop` is set); return how many images were recorded."""
        stop = stop or Event()
        running: dict[Future[ImageOutcome], ImageJob] = {}
        done: list[ImageOutcome] = []
        first_done_at = 0.0
        recorded = 0
        queue_empty = False
        reclaimed_at: datetime | None = None
        while True:
            if not stop.is_set() and not queue_empty and len(running) <= self._options.threads:
                wanted = self._options.held - len(running)
                now = self._clock.now()
                reclaim_expired = reclaimed_at is None or now - reclaimed_at >= self._options.reclaim_every
                jobs = self._claim(wanted, reclaim_expired)
                if reclaim_expired:
                    reclaimed_at = now
                queue_empty = len(jobs) < wanted
                for job in jobs:
                    running[self._executor.submit(self._process, job)] = job
            if not running:
                break
            finished, _ = wait(running, timeout=self._options.record_after.total_seconds(), return_when=FIRST_COMPLETED)
            queue_empty = queue_empty and not finished
            for future in finished:
                done.append(future.result())
                del running[future]
            if done and not first_done_at:
                first_done_at = time.monotonic()
            if stop.is_set():
                recorded += self._record(done) + self._wind_down(running)
                return recorded
            if done and (not running or time.monotonic() - first_done_at >= self._options.record_after.total_seconds()):
                recorded += self._record(done)
                done, first_done_at = [], 0.0
        return recorded + self._record(done)

    def _claim(self, limit: int, reclaim_expired: bool) -> list[ImageJob]:
        if limit <= 0:
            return []
        now = self._clock.now()
        with self._uow() as uow:
            jobs = uow.jobs.claim(self._options.worker_id, limit, now, now + self._options.lease, reclaim_expired)
            uow.commit()
        return jobs

    def _process(self, job: ImageJob) -> ImageOutcome:
        retry = self._options.retry
        if job.attempts > retry.max_attempts:
            failure = ImageFailure(f"abandoned: the worker holding it stopped {job.attempts - 1} times")
            return job.failed(failure, retry, self._clock.now())
        try:
            fetched = self._fetcher.fetch(job.url)
            with self._cpu:
                image = self._optimizer.optimize(fetched.data, job.options)
            key = f"{job.request_id}/{job.id}.{image.extension}"
            url = self._storage.put(key, image.data, image.media_type)
        except FetchFailed as exc:
            return job.failed(exc.failure, retry, self._clock.now())
        except OptimizeFailed as exc:
            return job.failed(ImageFailure(str(exc)), retry, self._clock.now())
        except StorageFailed as exc:
            return job.failed(
                ImageFailure(f"could not store the output: {exc}", transient=True), retry, self._clock.now()
            )
        except Exception as exc:  # a bug must cost one image an attempt, never the worker
            log.exception("unexpected error processing image %s (%s)", job.id, job.url)
            failure = ImageFailure(f"unexpected error: {type(exc).__name__}", transient=True)
            return job.failed(failure, retry, self._clock.now())
        stored = StoredImage(key, url, image.media_type, len(fetched.data), len(image.data), image.width, image.height)
        return job.succeeded(stored)

    def _record(self, outcomes: list[ImageOutcome]) -> int:
        if not outcomes:
            return 0
        now = self._clock.now()
        with self._uow() as uow:
            for request_id in uow.jobs.record(self._options.worker_id, outcomes, now):
                request = uow.requests.get_for_update(request_id)
                images = uow.requests.summary(request_id).images
                request.finish(images.optimized, images.failed, now)
                uow.requests.save(request)
                self._announcer.announce(uow, request)
            uow.commit()
        return len(outcomes)

    def _wind_down(self, running: dict[Future[ImageOutcome], ImageJob]) -> int:
        log.info("stopping: waiting up to %s for %d running images", self._options.stop_grace, len(running))
        finished, unfinished = wait(running, timeout=self._options.stop_grace.total_seconds())
        recorded = self._record([future.result() for future in finished])
        log.info("stopping: recorded %d images, releasing %d", len(finished), len(unfinished))
        if unfinished:
            with self._uow() as uow:
                uow.jobs.release(self._options.worker_id, [running[future].released() for future in unfinished])
                uow.commit()
        return recorded
