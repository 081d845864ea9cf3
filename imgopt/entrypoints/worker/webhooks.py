"""Send due webhook deliveries on a pool, one per webhook at a time, claiming more as attempts finish."""

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from threading import Event

from imgopt.adapters.metrics.worker import WorkerMetrics
from imgopt.application.ports import Unavailable
from imgopt.application.use_cases.delivery import ClaimDeliveries, DeliverWebhook, Dispatch

log = logging.getLogger(__name__)


class DeliveryRunner:
    """Drain the outbox of due deliveries, `slots` attempts at a time, then return.

    Each webhook has at most one attempt in flight, and a free slot is filled as soon as any
    attempt ends: a slow or dead receiver holds up only its own deliveries, never another's.
    While attempts are in flight the outbox is looked at again every `poll` seconds. When `stop`
    is set, attempts in flight get `stop_grace` seconds to end. Attempts still in flight when a
    drain is cut short (the database went away) are followed by the next drain.
    """

    def __init__(
        self,
        claim: ClaimDeliveries,
        deliver: DeliverWebhook,
        slots: int,
        stop_grace: float,
        metrics: WorkerMetrics,
        poll: float = 0.5,
    ) -> None:
        self._claim = claim
        self._deliver = deliver
        self._slots = slots
        self._stop_grace = stop_grace
        self._metrics = metrics
        self._poll = poll
        self._running: dict[Future[object], Dispatch] = {}
        self._pool = ThreadPoolExecutor(slots, thread_name_prefix="imgopt-webhook")

    def drain(self, stop: Event) -> int:
        """Attempt every due delivery once (until `stop` is set); return how many attempts were made."""
        attempted = 0
        while True:
            if not stop.is_set() and len(self._running) < self._slots:
                busy = {dispatch.delivery.webhook_id for dispatch in self._running.values()}
                for dispatch in self._claim(self._slots - len(self._running), busy):
                    self._running[self._pool.submit(self._deliver, dispatch)] = dispatch
                self._metrics.deliveries_in_flight(len(self._running))
            if not self._running:
                return attempted
            if stop.is_set():
                finished, _ = wait(self._running, timeout=self._stop_grace)
                return attempted + len(finished)
            finished, _ = wait(self._running, timeout=self._poll, return_when=FIRST_COMPLETED)
            for future in finished:
                dispatch = self._running.pop(future)
                attempted += 1
                _log_unrecorded(dispatch, future.exception())
            self._metrics.deliveries_in_flight(len(self._running))

    def close(self) -> None:
        # An attempt still in flight is not recorded; its lease runs out and it is sent again.
        self._pool.shutdown(wait=False, cancel_futures=True)


def _log_unrecorded(dispatch: Dispatch, error: BaseException | None) -> None:
    """An attempt whose result could not be saved falls due again, under the same message id, when its lease ends."""
    ids = {"delivery_id": dispatch.delivery.id, "request_id": str(dispatch.delivery.request_id)}
    if isinstance(error, Unavailable):
        log.warning("a webhook attempt was made but not recorded: %s", error, extra=ids)
    elif error is not None:
        log.error("a webhook attempt could not be recorded", exc_info=error, extra=ids)
