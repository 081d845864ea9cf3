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
from imgopt.application.use_cases.claiming import ClaimImages, ExtendLeases, ReleaseImages, RevalidationGroup
from imgopt.application.use_cases.processing import ProcessImage
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.image_jobs import ImageJob, ImageOutcome
from imgopt.domain.origins import OriginLimits
from imgopt.entrypoints.worker.batch import OutcomeBatch
from imgopt.entrypoints.worker.revalidations import Chain, RevalidationQueue

log = logging.getLogger(__name__)


# While a claim has come up short and images are still running, how often the runner looks for
# newly announced work (a cheap poll of the LISTEN connection): a new upload starts within this.
LOOK_FOR_WORK_SECONDS = 0.05
# While revalidations wait (their origin slow, say), a claim is made at least this often all the same, so
# other tenants' images are claimed meanwhile: each tenant holds two groups at most.
CLAIM_AGAIN_SECONDS = 0.5


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
    # Images that most likely end at their download (a re-upload's 304s: `SourceTurn.revalidates`) are claimed
    # up to this many at a time, once most of a claim's images are such; 0: claimed as any other image.
    revalidation_group: int = 64
    # Downloads of each origin at once from every worker (IMGOPT_ORIGIN_CONCURRENCY and its overrides):
    # revalidations of one origin run on no more threads than that, so none waits for a slot another holds.
    origin_limits: OriginLimits = OriginLimits()

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


# What a download thread hands back: what each image it took came to (its bytes to optimize, or its
# outcome), and the images it did not begin (the runner is stopping, or one before them is to optimize).
Downloaded = tuple[list[tuple[ImageJob, FetchedImage | ImageOutcome]], list[ImageJob]]


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

    Revalidations (images whose source is remembered with validators: a re-upload's, which mostly end in a
    304 and are reused) go another way once most of a claim's images are such: they are claimed
    `revalidation_group` at a time (`RevalidationGroup`; a tenant holds two groups at most), queued by
    origin, and asked of their origin by at most `origin_limits.of(origin)` threads per origin, each taking
    a chain of them in turn (`RevalidationQueue`); one that turns out changed goes on to be optimized, and its thread
    hands back the rest. While revalidations wait (a stalled origin), a claim is still made every
    `CLAIM_AGAIN_SECONDS`, so other tenants' images go on. They hold no memory place while they wait,
    only a lease: a worker that dies holding a group charges each of its images an attempt, and the
    leases' end gives them back.
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
        # Each download thread's images (one, or a chain of revalidations of one origin: `_chains`).
        self._downloading: dict[Future[Downloaded], list[ImageJob]] = {}
        self._chains: dict[Future[Downloaded], Chain] = {}
        self._revalidations = RevalidationQueue(options.revalidation_group, options.origin_limits)
        self._revalidating = False  # whether most of the last claim's images revalidated: claim groups
        self._claimed_at = 0.0
        self._stopping = Event()
        self._stop = self._stopping  # the drain's, while one runs
        self._optimizing: dict[Future[ImageOutcome], ImageJob] = {}
        self._download_pool = ThreadPoolExecutor(options.downloads, thread_name_prefix="imgopt-download")
        self._optimize_pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="imgopt-optimize")
        self._report()

    def drain(self, stop: Event) -> int:
        """Process until nothing is due (or `stop` is set); return how many outcomes were recorded."""
        recorded_before = self._batch.recorded
        self._stop = stop  # a chain of revalidations begins no other image once it is set
        self._batch.flush()
        queue_empty = False
        finished_since_claim = 0
        while True:
            if not stop.is_set() and not queue_empty:
                claimed = self._claim_if_worth_it()
                if claimed is not None:
                    queue_empty, finished_since_claim = claimed, 0
            if not self._holding:
                break
            timeout = LOOK_FOR_WORK_SECONDS if queue_empty else self._options.record_after
            finished, _ = wait(self._futures(), timeout=timeout, return_when=FIRST_COMPLETED)
            finished_since_claim += self._collect(finished)
            # A claim that came back short (its tenants' room full, or the queue dry) is tried again once as
            # many images have ended since as make a claim worth it (`claim_when_idle`, or a group of
            # revalidations), or at once when work is announced. Trying again at every image that ended gave
            # claims of one or two images when one tenant's images end fast (a re-upload's 304s), each a
            # transaction of two statements. Once nothing is held, a claim is worth it whatever its size.
            worth = self._options.revalidation_group if self._revalidating else self._options.claim_when_idle
            queue_empty = (
                queue_empty
                and finished_since_claim < worth
                and self._holding
                and not self._claim_overdue()
                and not self._announced(0)
            )
            self._keep_leases()
            if stop.is_set():
                self._wind_down()
                break
            if self._batch.due(idle=not self._holding):
                self._batch.flush()
        self._batch.flush()
        return self._batch.recorded - recorded_before

    def close(self) -> None:
        """Record or release what an interrupted drain left (the worker stopped while the database was away)."""
        if self._holding or self._batch.waiting:
            self._wind_down()
        # Not waiting: the runner has recorded or released its jobs; a download still running ends
        # when the fetcher's connections are closed, right after.
        self._download_pool.shutdown(wait=False, cancel_futures=True)
        self._optimize_pool.shutdown(wait=False, cancel_futures=True)

    @property
    def _held(self) -> int:
        """Memory places taken: each download thread and each optimizing one holds one image's bytes at most."""
        return len(self._downloading) + len(self._optimizing)

    @property
    def _holding(self) -> bool:
        return bool(self._held or self._revalidations)

    def _futures(self) -> list[Future]:
        return [*self._downloading, *self._optimizing]

    def _claim_if_worth_it(self) -> bool | None:
        """Claim when enough places are free; return whether the claim came back short (None: no claim)."""
        # Every image claimed starts downloading at once, and memory holds no more than `capacity`.
        idle = min(self._options.downloads - len(self._downloading), self._options.capacity - self._held)
        group = None
        if self._revalidating:
            # The next group once every image claimed is on a thread: the threads still have their chains to
            # run meanwhile, and the tenant's room (two groups) then takes a whole group. Claiming once half a
            # group had begun, for what was missing, gave claims of half a group: twice the transactions.
            waiting = len(self._revalidations)
            if waiting and not (idle >= self._options.claim_when_idle and self._claim_overdue()):
                return None
            group = RevalidationGroup(self._options.revalidation_group - waiting, self._revalidations.room())
            wanted = group.size
        elif idle >= self._options.claim_when_idle:
            wanted = idle
        else:
            return None
        jobs = self._claim_images(max(idle, 0), group)
        self._claimed_at = time.monotonic()
        self._start(jobs)
        self._report()
        return len(jobs) < wanted

    def _claim_overdue(self) -> bool:
        """In groups, whether the last claim is long enough ago for another whatever waits (`CLAIM_AGAIN_SECONDS`)."""
        return self._revalidating and time.monotonic() - self._claimed_at >= CLAIM_AGAIN_SECONDS

    def _claim_images(self, limit: int, group: RevalidationGroup | None) -> list[ImageJob]:
        """Claim; after a claim whose answer was lost, hand back first what it leased unheard of."""
        held = self._held_ids() if self._claim_unanswered else None
        self._claim_unanswered = True  # until the answer is in hand
        jobs = self._claim(limit, self._room(), held, group)
        self._claim_unanswered = False
        return jobs

    def _start(self, jobs: list[ImageJob]) -> None:
        """Downloads begin at once; revalidations queue by origin for its threads."""
        revalidations = 0
        for job in jobs:
            if self._revalidations.wants(job):
                self._revalidations.add(job)
                revalidations += 1
            else:
                self._downloading[self._download_pool.submit(self._download, [job])] = [job]
        if jobs:
            self._revalidating = 2 * revalidations >= len(jobs)
        self._start_chains()

    def _start_chains(self) -> None:
        """Give each origin's waiting revalidations to as many threads as its slots allow."""
        if self._stop.is_set() or self._stopping.is_set():
            return
        for chain in self._revalidations.chains():
            future = self._download_pool.submit(self._download, chain.jobs)
            self._downloading[future] = chain.jobs
            self._chains[future] = chain

    def _download(self, jobs: list[ImageJob]) -> Downloaded:
        """On a download thread: the images in turn, up to the first to optimize (or the runner stopping)."""
        done: list[tuple[ImageJob, FetchedImage | ImageOutcome]] = []
        for index, job in enumerate(jobs):
            if index and (self._stop.is_set() or self._stopping.is_set()):
                return done, jobs[index:]
            fetched = self._process.download(job)
            done.append((job, fetched))
            if not isinstance(fetched, ImageOutcome):
                return done, jobs[index + 1 :]
        return done, []

    def _held_ids(self) -> list[int]:
        running = [job for chain in self._downloading.values() for job in chain]
        running += self._revalidations
        return [job.id for job in running] + [job.id for job in self._optimizing.values()] + self._batch.job_ids

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
        """Each tenant's room in the download threads: a chain of revalidations is one download at a time."""
        tenants = (chain[0].tenant_id for chain in self._downloading.values())
        return DownloadRoom(self._options.tenant_downloads, Counter(t for t in tenants if t is not None))

    def _collect(self, finished: set[Future]) -> int:
        """Take in what the finished futures came to; return how many images ended (not gone on to optimize)."""
        ended = 0
        for future in finished:
            if future in self._downloading:
                self._downloading.pop(future)
                done, rest = future.result()
                chain = self._chains.pop(future, None)
                if chain is not None:
                    self._revalidations.ended(chain, rest)
                for job, fetched in done:
                    if isinstance(fetched, ImageOutcome):
                        self._batch.add(fetched, finishing=job.finishing)
                        ended += 1
                    else:
                        self._optimizing[self._optimize_pool.submit(self._process.finish, job, fetched)] = job
            else:
                self._batch.add(future.result(), finishing=self._optimizing.pop(future).finishing)
                ended += 1
        self._start_chains()
        self._report()
        return ended

    def _wind_down(self) -> None:
        context = {"worker_id": self._options.worker_id}
        self._stopping.set()  # no chain of revalidations begins another image
        grace, running = self._options.stop_grace, self._held
        log.info("stopping: waiting up to %ss for %d running images", grace, running, extra=context)
        deadline = time.monotonic() + grace
        while self._held and (left := deadline - time.monotonic()) > 0:
            finished, _ = wait(self._futures(), timeout=left, return_when=FIRST_COMPLETED)
            self._collect(finished)  # a download that ends in time is optimized in time too, if it can be
            self._keep_leases()
        unfinished = [job for chain in self._downloading.values() for job in chain]
        unfinished += [*self._optimizing.values()]
        unfinished += self._revalidations
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
        self._chains.clear()
        self._revalidations.clear()
        self._optimizing.clear()

    def _report(self) -> None:
        # A thread's chain of revalidations counts one on the thread; the rest of it waits with the queued.
        chained = sum(map(len, self._downloading.values())) - len(self._downloading)
        self._metrics.images_in_flight(self._held, self._options.capacity)
        self._metrics.revalidations_waiting(chained + len(self._revalidations))
