"""Retention: finished requests older than the retention period go, their outputs first; so do half-written files."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from imgopt.application.ports import Clock, ImageStorage, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeRequests:
    """Delete every request that finished more than `older_than` ago; return how many.

    A batch at a time, each in its own transaction: the outputs are deleted from storage first,
    then the rows, so a storage failure leaves the batch to the next run instead of leaving
    objects nothing points to. An output another request's image still points to (it reused it) stays
    (`SourceRepository.release_outputs`). Batches are claimed with SKIP LOCKED, so any number of workers
    may purge at once, each taking different requests.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    storage: ImageStorage
    batch: int = 100

    def __call__(self, older_than: timedelta) -> int:
        cutoff = self.clock.now() - older_than
        purged = 0
        while True:
            with self.uow() as uow:
                requests = uow.requests.finished_before(cutoff, self.batch)
                for request in requests:
                    self.storage.delete(uow.sources.release_outputs(request))
                    uow.requests.delete(request)
                uow.commit()
            purged += len(requests)
            if len(requests) < self.batch:
                break
        if purged:
            log.info("purged %d requests that finished before %s", purged, cutoff.isoformat())
        return purged


@dataclass(frozen=True, slots=True)
class SweepInterruptedWrites:
    """Remove what writes that never finished left in storage (a worker killed mid-write)."""

    storage: ImageStorage
    older_than: timedelta = timedelta(hours=1)

    def __call__(self) -> int:
        swept = self.storage.sweep(self.older_than)
        if swept:
            log.info("swept %d files that interrupted writes left behind", swept)
        return swept
