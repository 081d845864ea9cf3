"""The database as the worker's loops see it: one line when it goes away, one when it is back."""

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class DatabaseWatch:
    """Shared by the worker's loops, so an outage is logged once however many loops run into it.

    `on_change(up)` hears each change (the worker's metrics gauge).
    """

    def __init__(
        self, worker_id: str, on_change: Callable[[bool], None], monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.worker_id = worker_id
        self._on_change = on_change
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._down_since: float | None = None

    def failed(self, error: Exception) -> None:
        with self._lock:
            if self._down_since is not None:
                return
            self._down_since = self._monotonic()
        log.warning(
            "%s; the worker keeps its results, backs off and tries again", error, extra={"worker_id": self.worker_id}
        )
        self._on_change(False)

    def succeeded(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            away, self._down_since = self._monotonic() - self._down_since, None
        log.info("the database is back after %.1f s; the worker resumes", away, extra={"worker_id": self.worker_id})
        self._on_change(True)
