"""A `schedule` loop: one step on an interval, at once when woken, less often while the database is away."""

import logging
import threading
from collections.abc import Callable

import schedule

from imgopt.application.ports import Unavailable
from imgopt.entrypoints.worker.outage import DatabaseWatch

log = logging.getLogger(__name__)

# While the database is away a step is tried again after its interval, then twice that, and so on up
# to this: a restart is noticed within seconds, a long outage costs a connection attempt a while.
MAX_BACKOFF_SECONDS = 10.0


class Loop:
    """Calls `step` every `interval` seconds, and at once whenever `wake` reports work, until `stop`.

    `wake(timeout)` blocks up to `timeout` seconds and says whether work was announced (a
    WorkSignal's `wait`); without one the loop only keeps time. The step is a use case or a
    runner that calls use cases; the loop only times it. An exception in a step is logged and
    the loop goes on. The database being away (Unavailable) is reported to `watch`, which logs
    it once for every loop, and the loop backs off until a step succeeds again.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], object],
        interval: float,
        stop: threading.Event,
        watch: DatabaseWatch,
        wake: Callable[[float], bool] | None = None,
    ) -> None:
        self.name = name
        self._step = step
        self._interval = interval
        self._stop = stop
        self._watch = watch
        self._wake = wake or stop.wait
        self._failures = 0
        self._scheduler = schedule.Scheduler()
        self._scheduler.every(interval).seconds.do(self._safe_step)

    def run(self) -> None:
        self._safe_step()
        while not self._stop.is_set():
            if self._failures:
                self._stop.wait(min(self._interval * 2 ** (self._failures - 1), MAX_BACKOFF_SECONDS))
                self._safe_step()
                continue
            self._scheduler.run_pending()
            idle = self._scheduler.idle_seconds
            if self._wake(min(max(idle if idle is not None else self._interval, 0.0), self._interval)):
                self._safe_step()

    def _safe_step(self) -> None:
        if self._stop.is_set():
            return
        try:
            self._step()
        except Unavailable as error:
            self._failures += 1
            self._watch.failed(error)
        except Exception:  # logged; the next tick tries again
            self._failures = 0
            log.exception(
                "the %s loop failed; retrying on the next tick", self.name, extra={"worker_id": self._watch.worker_id}
            )
        else:
            self._failures = 0
            self._watch.succeeded()
