"""Send due webhook deliveries on a pool, one per webhook at a time, claiming more as attempts finish."""

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from threading import Event

from imgopt.application.use_cases.delivery import ClaimDeliveries, DeliverWebhook, Dispatch

log = logging.getLogger(__name__)


class DeliveryRunner:
    """Drain the outbox of due deliveries, `slots` attempts at a time, then return.

    Each webhook has at most one attempt in flight, and a free slot is filled as soon as any
    attempt ends: a slow or dead receiver holds up only its own deliveries, never another's.
    While attempts are in flight the outbox is looked at again every `poll` seconds. When `stop`
    is set, attempts in flight get `stop_grace` seconds to end.
    """

    def __init__(
        self, claim: ClaimDeliveries, deliver: DeliverWebhook, slots: int, stop_grace: float, poll: float = 0.5
    ) -> None:
        self._claim = claim
        self._deliver = deliver
        self._slots = slots
        self._stop_grace = stop_grace
        self._poll = poll
        self._pool = ThreadPoolExecutor(slots, thread_name_prefix="imgopt-webhook")

    def drain(self, stop: Event) -> int:
        """Attempt every due delivery once (until `stop` is set); return how many attempts were made."""
        running: dict[Future[object], Dispatch] = {}
        attempted = 0
        while True:
            if not stop.is_set() and len(running) < self._slots:
                busy = {dispatch.delivery.webhook_id for dispatch in running.values()}
                for dispatch in self._claim(self._slots - len(running), busy):
                    running[self._pool.submit(self._deliver, dispatch)] = dispatch
            if not running:
                return attempted
            if stop.is_set():
                finished, _ = wait(running, timeout=self._stop_grace)
                return attempted + len(finished)
            finished, _ = wait(running, timeout=self._poll, return_when=FIRST_COMPLETED)
            for future in finished:
                dispatch = running.pop(future)
                attempted += 1
                if future.exception() is not None:  # not recorded: it falls due again when its lease ends
                    log.error("delivery %s could not be recorded", dispatch.delivery.id, exc_info=future.exception())

    def close(self) -> None:
        # An attempt still in flight is not recorded; its lease runs out and it is sent again.
        self._pool.shutdown(wait=False, cancel_futures=True)
