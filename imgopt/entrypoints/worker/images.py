"""Keep the worker's threads busy with images: claim, download on one pool, optimize on another, record in batches."""

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from threading import Event

from imgopt.adapters.metrics.worker import WorkerMetrics
from imgopt.application.ports import FetchedImage, Unavailable
from imgopt.application.use_cases.claiming import ClaimImages, ExtendLeases, ReleaseImages
from imgopt.application.use_cases.processing import ProcessImage
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.image_jobs import ImageJob, ImageOutcome
from imgopt.entrypoints.worker.batch import OutcomeBatch

log = logging.getLogger(__name__)


# While a claim has come up short and images are still running, how often the runner looks for
# newly announced work (a cheap poll of the LISTEN connection): a new upload starts within this.
LOOK_FOR_WORK_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class ImageRunnerOptions:
    concurrency: int  # images optimized at once
    downloads: int  # images downloaded at once, on threads of their own
    tenant_downloads: int  # of which one tenant's at most
    worker_id: str = ""  # for the log lines
    # Outcomes are written in groups (fewer transactions per image); one that may finish its
    # request is written at once (see OutcomeBatch), so no uploader waits on the grouping.
    record_after: float = 0.25
    stop_grace: float = 10.0

    @property
    def capacity(self) -> int:
        """Images held at once: downloading, and downloaded (in memory) waiting for or in an optimizing thread."""
        return self.downloads + self.concurrency

    @property
    def claim_when_idle(self) -> int:
        """Free places worth a claim: as many as optimize at once, so claims come in groups.

        A download takes a few milliseconds against tens for an optimization, so the images still
        running keep every optimizer busy meanwhile; claiming for each place as it came free cost
        a database round trip per image.
        """
        return min(self.concurrency, self.downloads)


class ImageRunner:
    """Drain the queue of due images, keeping the optimizing threads busy, then return.

    Each image goes through two stages on two pools of threads: its download (`ProcessImage.download`,
    `downloads` threads: waiting on origins), then its optimization and storage (`ProcessImage.finish`,
    `concurrency` threads: the CPU). An optimizing thread only ever holds bytes already in memory,
    so an origin that stalls costs download places only, and no tenant gets more than
    `tenant_downloads` of them in this worker (the claim gives it no more: `DownloadRoom`), so one
    tenant's slow origin leaves the others theirs.

    It claims only as many images as it has free download threads (and memory places), once as
    many are free as optimize at once, so every image it holds has been started: a claim counts an
    attempt, and a worker that dies must not charge one to images it never began. When a claim
    came up short while images are still running, it looks for newly announced work
    (`announced`) every few milliseconds, so a new upload does not wait for the slow images to
    end. Outcomes the database could not take (it was away) stay with the runner, with the images
    still running, and the next drain records them first; their lease still guards them, so none
    is lost and none counted twice; a claim whose answer was lost is made good by the next
    (`ClaimImages`' `held`). While it holds images it extends their lease (`extend`, every
    third of it), so an image that waits long for an origin or a thread is never taken back from a
    live worker. When `stop` is set it claims nothing more, waits `stop_grace` seconds for the images that are
    running, records them, and hands the rest back to the queue.
    """

    def __init__(
        self,
        claim: ClaimImages,
        process: ProcessImage,
        record: RecordOutcomes,
        release: ReleaseImages,
        extend: ExtendLeases,
        options: ImageRunnerOptions,
        metrics: WorkerMetrics,
        announced: Callable[[float], bool] | None = None,
    ) -> None:
        self._claim = claim
        self._process = process
        self._release = release
        self._extend = extend
        self._leases_extended_at = time.monotonic()
        self._claim_unanswered = False
        self._options = options
        self._metrics = metrics
        self._announced = announced or (lambda timeout: False)
        self._batch = OutcomeBatch(record, options.record_after, metrics.recorded)
        self._downloading: dict[Future[FetchedImage | ImageOutcome], ImageJob] = {}
        self._optimizing: dict[Future[ImageOutcome], ImageJob] = {}
        self._download_pool = ThreadPoolExecutor(options.downloads, thread_name_prefix="imgopt-download")
        self._optimize_pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="imgopt-optimize")
        self._report()

    def drain(self, stop: Event) -> int:
        """Process until nothing is due (or `stop` is set); return how many outcomes were recorded."""
        recorded_before = self._batch.recorded
        self._batch.flush()
        queue_empty = False
        finished_since_claim = 0
        while True:
            # Every image claimed starts downloading at once, and memory holds no more than `capacity`.
            idle = min(self._options.downloads - len(self._downloading), self._options.capacity - self._held)
            if idle >= self._options.claim_when_idle and not stop.is_set() and not queue_empty:
                jobs = self._claim_images(idle)
                queue_empty, finished_since_claim = len(jobs) < idle, 0
                self._downloading.update((self._download_pool.submit(self._process.download, job), job) for job in jobs)
                self._report()
            if not self._held:
                break
            timeout = LOOK_FOR_WORK_SECONDS if queue_empty else self._options.record_after
            finished, _ = wait(self._futures(), timeout=timeout, return_when=FIRST_COMPLETED)
            finished_since_claim += self._collect(finished)
            # A claim that came back short (its tenants' room full, or the queue dry) is tried again once as
            # many images have ended since as make a claim worth it (`claim_when_idle`), or at once when
            # work is announced. Trying again at every image that ended gave claims of one or two images
            # when one tenant's images end fast (a re-upload's 304s), each a transaction of two statements.
            # Not more: one origin gets only a few downloads at once (IMGOPT_ORIGIN_CONCURRENCY), and a
            # catalogue is often one origin's; more at once only wait for its slots.
            queue_empty = (
                queue_empty and finished_since_claim < self._options.claim_when_idle and not self._announced(0)
            )
            self._keep_leases()
            if stop.is_set():
                self._wind_down()
                break
            if self._batch.due(idle=not self._held):
                self._batch.flush()
        self._batch.flush()
        return self._batch.recorded - recorded_before

    def close(self) -> None:
        """Record or release what an interrupted drain left (the worker stopped while the database was away)."""
        if self._held or self._batch.waiting:
            self._wind_down()
        # Not waiting: the runner has recorded or released its jobs; a download still running ends
        # when the fetcher's connections are closed, right after.
        self._download_pool.shutdown(wait=False, cancel_futures=True)
        self._optimize_pool.shutdown(wait=False, cancel_futures=True)

    @property
    def _held(self) -> int:
        return len(self._downloading) + len(self._optimizing)

    def _futures(self) -> list[Future]:
        return [*self._downloading, *self._optimizing]

    def _claim_images(self, limit: int) -> list[ImageJob]:
        """Claim; after a claim whose answer was lost, hand back first what it leased unheard of."""
        held = self._held_ids() if self._claim_unanswered else None
        self._claim_unanswered = True  # until the answer is in hand
        jobs = self._claim(limit, self._room(), held)
        self._claim_unanswered = False
        return jobs

    def _held_ids(self) -> list[int]:
        running = [*self._downloading.values(), *self._optimizing.values()]
        return [job.id for job in running] + self._batch.job_ids

    def _keep_leases(self) -> None:
        """Extend the lease of every image held (running, or its outcome waiting to be recorded) when due."""
        if time.monotonic() - self._leases_extended_at < self._extend.every:
            return
        held = self._held_ids()
        try:
            self._extend(held)
        except Unavailable as error:  # the next pass tries again; the lease still has two thirds to run
            log.warning("could not extend the leases of %d images: %s", len(held), error)
            return
        self._leases_extended_at = time.monotonic()

    def _room(self) -> DownloadRoom:
        downloading = Counter(job.tenant_id for job in self._downloading.values() if job.tenant_id is not None)
        return DownloadRoom(self._options.tenant_downloads, downloading)

    def _collect(self, finished: set[Future]) -> int:
        """Take in what the finished futures came to; return how many images ended (not gone on to optimize)."""
        ended = 0
        for future in finished:
            if future in self._downloading:
                job = self._downloading.pop(future)
                fetched = future.result()
                if isinstance(fetched, ImageOutcome):
                    self._batch.add(fetched, finishing=job.finishing)
                    ended += 1
                else:
                    self._optimizing[self._optimize_pool.submit(self._process.finish, job, fetched)] = job
            else:
                self._batch.add(future.result(), finishing=self._optimizing.pop(future).finishing)
                ended += 1
        self._report()
        return ended

    def _wind_down(self) -> None:
        context = {"worker_id": self._options.worker_id}
        grace, running = self._options.stop_grace, self._held
        log.info("stopping: waiting up to %ss for %d running images", grace, running, extra=context)
        deadline = time.monotonic() + grace
        while self._held and (left := deadline - time.monotonic()) > 0:
            finished, _ = wait(self._futures(), timeout=left, return_when=FIRST_COMPLETED)
            self._collect(finished)  # a download that ends in time is optimized in time too, if it can be
            self._keep_leases()
        unfinished = [*self._downloading.values(), *self._optimizing.values()]
        try:
            recorded = self._batch.waiting
            self._batch.flush()
            self._release(unfinished)
        except Unavailable as error:
            waiting = self._batch.waiting
            message = "stopping: %s; %d results and %d running images stay claimed until their lease ends"
            log.warning(message, error, waiting, len(unfinished), extra=context)
            return
        log.info("stopping: recorded %d images, releasing %d", recorded, len(unfinished), extra=context)
        self._downloading.clear()
        self._optimizing.clear()

    def _report(self) -> None:
        self._metrics.images_in_flight(self._held, self._options.capacity)
