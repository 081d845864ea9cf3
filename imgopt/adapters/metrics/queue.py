"""The queue's gauges, read from the database at most every few seconds however often Prometheus scrapes."""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from imgopt.application.ports import QueueReader, QueueSnapshot, Unavailable

log = logging.getLogger(__name__)


class QueueGauges(Collector):
    """Images pending and processing, the age of the oldest pending one, the webhook backlog.

    The figures are the same from every process (they are the database's): aggregate them with
    `max`, not `sum`. While the database is away they are left out, so an alert on `absent()` or
    on `imgopt_worker_database_up` sees it, and a scrape never waits on more than one attempt.
    """

    def __init__(
        self, reader: QueueReader, refresh_seconds: float = 5.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._reader = reader
        self._refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._snapshot: QueueSnapshot | None = None

    def describe(self) -> list[Metric]:
        return []  # registering must not read the database

    def collect(self) -> Iterator[Metric]:
        snapshot = self._current()
        if snapshot is None:
            return
        yield _by_label(
            "imgopt_queue_images",
            "Images not finished, by status",
            "status",
            {"pending": snapshot.images_pending, "processing": snapshot.images_processing},
        )
        yield GaugeMetricFamily(
            "imgopt_queue_oldest_pending_age_seconds",
            "How long the longest-waiting due image has waited (0 when none waits)",
            value=_age(snapshot.at, snapshot.oldest_pending_since),
        )
        yield _by_label(
            "imgopt_webhook_deliveries",
            "Webhook deliveries not finished: due now, or pending (due or retrying later)",
            "state",
            {"due": snapshot.deliveries_due, "pending": snapshot.deliveries_pending},
        )
        yield GaugeMetricFamily(
            "imgopt_webhook_oldest_due_age_seconds",
            "How long the longest-waiting due webhook delivery has waited (0 when none waits)",
            value=_age(snapshot.at, snapshot.oldest_delivery_due_since),
        )

    def _current(self) -> QueueSnapshot | None:
        with self._lock:
            now = self._monotonic()
            if self._read_at is not None and now - self._read_at < self._refresh_seconds:
                return self._snapshot
            self._read_at = now
            try:
                self._snapshot = self._reader.snapshot()
            except Unavailable as error:
                if self._snapshot is not None:
                    log.warning("queue metrics left out: %s", error)
                self._snapshot = None
            return self._snapshot


def _by_label(name: str, documentation: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=[label])
    for value, figure in values.items():
        gauge.add_metric([value], figure)
    return gauge


def _age(at: datetime, since: datetime | None) -> float:
    return max((at - since).total_seconds(), 0.0) if since is not None else 0.0
