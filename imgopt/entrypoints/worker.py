"""The long-running worker: two `schedule` loops, images and webhooks, woken early by LISTEN/NOTIFY."""

import logging
import threading
from collections.abc import Callable

import schedule

from imgopt.application.ports import WorkSignal

log = logging.getLogger(__name__)


class Loop:
    """Calls `step` every `interval` seconds, and at once whenever `signal` announces work, until `stop`.

    The step is a use case; the loop only times it. An exception in a step is logged and the
    loop goes on: the database being away for a while must not stop the worker.
    """

    def __init__(
        self, name: str, step: Callable[[], object], signal: WorkSignal, interval: float, stop: threading.Event
    ) -> None:
        self.name = name
        self._step = step
        self._signal = signal
        self._interval = interval
        self._stop = stop
        self._scheduler = schedule.Scheduler()
        self._scheduler.every(interval).seconds.do(self._safe_step)

    def run(self) -> None:
        self._safe_step()
        while not self._stop.is_set():
            self._scheduler.run_pending()
            idle = self._scheduler.idle_seconds
            if self._signal.wait(min(max(idle if idle is not None else self._interval, 0.0), self._interval)):
                self._safe_step()

    def _safe_step(self) -> None:
        if self._stop.is_set():
            return
        try:
            self._step()
        except Exception:  # logged; the next tick tries again
            log.exception("the %s loop failed; retrying on the next tick", self.name)


class Worker:
    """The loops in threads of their own; `stop` lets running images finish or releases them."""

    def __init__(self, loops: list[Loop], stop: threading.Event) -> None:
        self._loops = loops
        self._stop = stop
        self._threads = [threading.Thread(target=loop.run, name=f"imgopt-{loop.name}") for loop in loops]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        log.info("worker started: %s", ", ".join(loop.name for loop in self._loops))

    def request_stop(self) -> None:
        """Safe to call from a signal handler: the loops notice within one poll interval."""
        self._stop.set()
        log.info("stop requested")

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        log.info("worker stopped")

    def wait(self) -> None:
        """Block until the loops end. Python runs signal handlers only when the main thread runs Python,
        and a signal the kernel hands to another thread does not wake a join that never times out."""
        while any(thread.is_alive() for thread in self._threads):
            for thread in self._threads:
                thread.join(timeout=0.2)
        log.info("worker stopped")
