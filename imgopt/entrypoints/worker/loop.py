"""A `schedule` loop: calls one step on an interval, and at once whenever it is woken."""

import logging
import threading
from collections.abc import Callable

import schedule

log = logging.getLogger(__name__)


class Loop:
    """Calls `step` every `interval` seconds, and at once whenever `wake` reports work, until `stop`.

    `wake(timeout)` blocks up to `timeout` seconds and says whether work was announced (a
    WorkSignal's `wait`); without one the loop only keeps time. The step is a use case or a
    runner that calls use cases; the loop only times it. An exception in a step is logged and
    the loop goes on: the database being away for a while must not stop the worker.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], object],
        interval: float,
        stop: threading.Event,
        wake: Callable[[float], bool] | None = None,
    ) -> None:
        self.name = name
        self._step = step
        self._interval = interval
        self._stop = stop
        self._wake = wake or stop.wait
        self._scheduler = schedule.Scheduler()
        self._scheduler.every(interval).seconds.do(self._safe_step)

    def run(self) -> None:
        self._safe_step()
        while not self._stop.is_set():
            self._scheduler.run_pending()
            idle = self._scheduler.idle_seconds
            if self._wake(min(max(idle if idle is not None else self._interval, 0.0), self._interval)):
                self._safe_step()

    def _safe_step(self) -> None:
        if self._stop.is_set():
            return
        try:
            self._step()
        except Exception:  # logged; the next tick tries again
            log.exception("the %s loop failed; retrying on the next tick", self.name)
