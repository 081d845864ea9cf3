"""Record what attempts came to, count finished images into their requests, announce finished requests."""

import logging
from collections import defaultdict
from dataclasses import dataclass

from imgopt.application.ports import Clock, UnitOfWorkFactory, WorkSignal
from imgopt.application.use_cases.announcement import Announcer
from imgopt.domain.image_jobs import ImageOutcome
from imgopt.domain.request import UploadRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordOutcomes:
    """Persist a batch of outcomes in one transaction; return those that were recorded.

    Only jobs this worker still holds are recorded: one whose lease ran out may have been
    taken by another worker, whose outcome counts instead. Each request is locked while its
    outcomes are counted, so every image and every product counts exactly once however many
    workers record at the same time; a request whose last image this is finishes here, and its
    webhook deliveries go into the outbox in the same transaction. The requests are locked first,
    so an image of a request cancelled meanwhile is cancelled rather than tried again.

    What each attempt learnt of its source is remembered in the same transaction, so a remembered
    output is always one a recorded image points to. A reuse whose output a purge removed meanwhile
    is not recorded as done: the image goes back in the queue, due at once, its attempt not counted.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    worker_id: str
    announcer: Announcer
    webhook_work: WorkSignal

    def __call__(self, outcomes: list[ImageOutcome]) -> list[ImageOutcome]:
        if not outcomes:
            return []
        now = self.clock.now()
        announced = 0
        finished_requests: list[UploadRequest] = []
        with self.uow() as uow:
            # Locked first, in one statement: an image of a request cancelled meanwhile is cancelled rather
            # than tried again, and the progress read after sees every concurrent recorder's outcomes.
            requests = uow.requests.get_many_for_update({outcome.request_id for outcome in outcomes})
            settled = [requests[o.request_id].settle(o) for o in outcomes if o.request_id in requests]
            kept = uow.sources.still_remembered([o for o in settled if o.source is not None])
            settled = [o.reuse_lost(now) if o.reused and o.job_id not in kept else o for o in settled]
            recorded = uow.jobs.record(self.worker_id, settled, now)
            uow.sources.remember([o for o in recorded if o.source is not None], now)
            terminal = _terminal_by_request(recorded)
            progress = uow.products.progress({id: {o.line for o in done} for id, done in terminal.items()})
            for request_id, finished in sorted(terminal.items()):
                request = requests[request_id]
                request.record(finished, progress[request_id], now)
                uow.requests.save(request)
                if request.events:
                    announced += self.announcer.announce(uow, request)
                    finished_requests.append(request)
            uow.commit()
        for request in finished_requests:
            log.info(
                "request %s: %d images optimized, %d failed",
                request.status,
                request.optimized,
                request.failed,
                extra={"request_id": str(request.id), "worker_id": self.worker_id},
            )
        if announced:
            self.webhook_work.notify()
        return recorded


def _terminal_by_request(outcomes: list[ImageOutcome]) -> dict:
    grouped = defaultdict(list)
    for outcome in outcomes:
        if outcome.status.is_terminal:
            grouped[outcome.request_id].append(outcome)
    return grouped
