"""The queue side of the worker: claim due images, hand back what cannot be done, take back what was abandoned."""

from datetime import datetime, timedelta

from imgopt.application.ports import Clock, UnitOfWork, UnitOfWorkFactory, WorkSignal
from imgopt.domain.model import ImageJob
from imgopt.domain.request import UploadRequest

# Products turned into jobs at a time, at least: more jobs than one claim keeps other workers fed.
EXPANSION_SLICE = 32


class ClaimImages:
    """Claim up to `limit` due images for this worker, under a lease.

    Jobs are created from a request's products only as workers need them, so a million-row upload
    costs no million inserts before its first image is done. Fairness comes first: every request
    none of whose images is waiting gets its next slice, and the claim takes turns across tenants
    and requests; only then, when too few are due, the oldest request gets a bigger slice.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, worker_id: str, lease: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._worker_id = worker_id
        self._lease = lease

    def __call__(self, limit: int) -> list[ImageJob]:
        now = self._clock.now()
        lease_until = now + self._lease
        with self._uow() as uow:
            for request in uow.requests.starving(limit):
                _expand(uow, request, EXPANSION_SLICE, now)
            jobs = uow.jobs.claim(self._worker_id, limit, now, lease_until)
            while len(jobs) < limit and (request := uow.requests.next_to_expand()) is not None:
                _expand(uow, request, max(limit - len(jobs), EXPANSION_SLICE), now)
                jobs += uow.jobs.claim(self._worker_id, limit - len(jobs), now, lease_until)
            uow.commit()
        return jobs


def _expand(uow: UnitOfWork, request: UploadRequest, products: int, now: datetime) -> None:
    request.expanded_through(uow.jobs.add_for(request, products, now), now)
    uow.requests.save(request)


class ReleaseImages:
    """Hand back images this worker claimed but will not process (it is stopping); the attempt does not count."""

    def __init__(self, uow: UnitOfWorkFactory, worker_id: str, image_work: WorkSignal) -> None:
        self._uow = uow
        self._worker_id = worker_id
        self._image_work = image_work

    def __call__(self, jobs: list[ImageJob]) -> None:
        if not jobs:
            return
        with self._uow() as uow:
            uow.jobs.release(self._worker_id, [job.released() for job in jobs])
            uow.commit()
        self._image_work.notify()


class ReclaimExpiredLeases:
    """Put back in the queue the images whose worker died holding them (their lease ran out)."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, image_work: WorkSignal) -> None:
        self._uow = uow
        self._clock = clock
        self._image_work = image_work

    def __call__(self) -> int:
        with self._uow() as uow:
            reclaimed = uow.jobs.reclaim_expired(self._clock.now())
            uow.commit()
        if reclaimed:
            self._image_work.notify()
        return reclaimed
