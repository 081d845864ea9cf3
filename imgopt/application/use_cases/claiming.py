"""The queue side of the worker: claim due images, hand back what cannot be done, take back what was abandoned."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from imgopt.application.ports import Claimed, Clock, UnitOfWork, UnitOfWorkFactory, WorkSignal
from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.image_jobs import ImageJob

# Products turned into jobs at a time, and how close to the last of them a request's first job due
# may come before it gets more: enough that the many workers claiming at once all find some, few
# enough that an upload costs no bulk insert.
EXPANSION_SLICE = 128


@dataclass(frozen=True, slots=True)
class RevalidationGroup:
    """A claim's larger share for images that most likely end at their download (`SourceTurn.revalidates`: a
    re-upload's, whose origin answers 304): up to `size` of them, each tenant within `room`.

    They take no optimizing thread and no memory place, and the worker asks their origin a few at a time over
    kept connections and slots: claiming them a few at a time, as images that are optimized are, cost a
    transaction every few images. Each is still leased and charged an attempt as it is claimed.
    """

    size: int
    room: DownloadRoom = DownloadRoom()


@dataclass(frozen=True, slots=True)
class ClaimImages:
    """Claim up to `limit` due images for this worker, under a lease.

    Tenants, then their requests, take turns (the rule is the claim's, `ImageJobRepository.claim`), so no upload
    is stuck behind another. Jobs are made from a request's
    products only as workers need them: when the claim finds requests short of jobs (a new upload,
    or one whose due jobs run low), their next slices are made at once, whatever their age, and the
    claim takes what it still lacks. A million-row upload costs no million inserts before its first
    image is done, and never holds back the uploads behind it.

    Each image claimed comes with what is remembered of its source (`SourceRepository.turns`): of a
    tenant's images of one source, one at a time fetches it, under the same lease. What is remembered is
    what `producer` (the worker's `ImageOptimizer.producer`) made: an output another producer made is
    not reused.

    With a `group` (`RevalidationGroup`), the same rule claims up to `group.size` images within `group.room`;
    those that revalidate are all kept, the others only up to `limit` and within `room`, and the rest go
    back to the queue in the same transaction, their attempt not counted and the fetch of their source given up.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    worker_id: str
    lease: timedelta
    producer: str = ""

    def __call__(
        self,
        limit: int,
        room: DownloadRoom = DownloadRoom(),
        held: list[int] | None = None,
        group: RevalidationGroup | None = None,
    ) -> list[ImageJob]:
        """`room`: how many more each tenant may have downloading in this worker (no cap by default).

        `held`, after a claim whose answer was lost: the images this worker knows it holds. The
        others leased to it came with the lost answer, never began, and go back to the queue
        first, their attempt not counted (else they would wait out their lease and count twice).
        """
        now = self.clock.now()
        with self.uow() as uow:
            if held is not None:
                uow.jobs.release_unheld(self.worker_id, held)
            if group is None:
                jobs = self._claim_made(uow, limit, now, room)
            else:
                jobs = self._claim_made(uow, max(limit, group.size), now, group.room)
            if jobs:
                turns = uow.sources.turns(jobs, now, now + self.lease, self.producer)
                jobs = [replace(job, source=turns.get(job.id)) for job in jobs]
            if group is not None:
                jobs = self._keep(uow, jobs, limit, room, now)
            uow.commit()
        return jobs

    def _claim_made(self, uow: UnitOfWork, limit: int, now: datetime, room: DownloadRoom) -> list[ImageJob]:
        """Claim, and when requests are short of jobs make their next slices and claim what is still lacking."""
        claimed = self._claim(uow, limit, now, room)
        jobs = claimed.jobs
        if claimed.requests_short_of_jobs:
            self._make_jobs(uow, limit, now)
            if len(jobs) < limit:
                room = room.after(job.tenant_id for job in jobs if job.tenant_id is not None)
                jobs += self._claim(uow, limit - len(jobs), now, room).jobs
        return jobs

    def _keep(
        self, uow: UnitOfWork, jobs: list[ImageJob], limit: int, room: DownloadRoom, now: datetime
    ) -> list[ImageJob]:
        """Of a group's jobs, those that revalidate, and of the others the first `limit` within `room`; the rest
        go back to the queue uncounted, and give up the fetch of their source they took."""
        kept, back, fetches = [], [], 0
        for job in jobs:
            if job.source is not None and job.source.revalidates(job.request_id):
                kept.append(job)
            elif fetches < limit and (job.tenant_id is None or room.of(job.tenant_id) != 0):
                kept.append(job)
                fetches += 1
                room = room.after([job.tenant_id]) if job.tenant_id is not None else room
            else:
                back.append(job)
        if back:
            uow.jobs.release(self.worker_id, [job.released() for job in back])
            uow.sources.remember([job.handed_back() for job in back if job.source is not None], now)
        return kept

    def _claim(self, uow: UnitOfWork, limit: int, now: datetime, room: DownloadRoom) -> Claimed:
        return uow.jobs.claim(self.worker_id, limit, now, now + self.lease, EXPANSION_SLICE, room)

    def _make_jobs(self, uow: UnitOfWork, limit: int, now: datetime) -> None:
        # Each request gives at least one job: more requests than `limit` would be wasted on this claim.
        for request in uow.requests.short_of_jobs(EXPANSION_SLICE, now, limit):
            request.expanded_through(uow.jobs.add_for(request, max(limit, EXPANSION_SLICE), now), now)
            uow.requests.save(request)


@dataclass(frozen=True, slots=True)
class ExtendLeases:
    """Push on the lease of the images this worker still holds, so only a worker that died loses its images.

    A claimed image may wait (for an origin's slot, a download, an optimizing thread) longer than a
    short lease: the runner calls this every `every` seconds while it holds images, so a lease
    measures how long a dead worker keeps its images, not how long an image may take. The fetch
    lease of each source such an image holds (`SourceRepository.turns`) is extended with it, in the
    same transaction: a fetch slower than the lease is not taken up by another image of the source.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    worker_id: str
    lease: timedelta

    @property
    def every(self) -> float:
        """Seconds between extensions: a third of the lease, so two may fail (a database blip) before it ends."""
        return self.lease.total_seconds() / 3

    def __call__(self, job_ids: list[int]) -> int:
        """Extend the lease of those jobs this worker still holds; return how many it still held."""
        if not job_ids:
            return 0
        with self.uow() as uow:
            lease_until = self.clock.now() + self.lease
            extended = uow.jobs.extend_leases(self.worker_id, job_ids, lease_until)
            uow.sources.extend_fetches(self.worker_id, job_ids, lease_until)
            uow.commit()
        return extended


@dataclass(frozen=True, slots=True)
class ReleaseImages:
    """Hand back images this worker claimed but will not process (it is stopping); the attempt does not count."""

    uow: UnitOfWorkFactory
    worker_id: str
    image_work: WorkSignal

    def __call__(self, jobs: list[ImageJob]) -> None:
        if not jobs:
            return
        with self.uow() as uow:
            uow.jobs.release(self.worker_id, [job.released() for job in jobs])
            uow.commit()
        self.image_work.notify()


@dataclass(frozen=True, slots=True)
class ReclaimExpiredLeases:
    """Put back in the queue the images whose worker died holding them (their lease ran out)."""

    uow: UnitOfWorkFactory
    clock: Clock
    image_work: WorkSignal

    def __call__(self) -> int:
        with self.uow() as uow:
            reclaimed = uow.jobs.reclaim_expired(self.clock.now())
            uow.commit()
        if reclaimed:
            self.image_work.notify()
        return reclaimed
