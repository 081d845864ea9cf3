"""What the worker's runners report: images finished and failed, bytes, leases reclaimed, how busy it is."""

import collections
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge

from imgopt.domain.image_jobs import FailureClass, ImageOutcome
from imgopt.domain.lifecycle import ImageStatus


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._finished = Counter(
            "imgopt_images_finished", "Images that reached a final status, by outcome", ["outcome"], registry=registry
        )
        self._failures = Counter(
            "imgopt_image_failures",
            "Failed attempts on images, by where they failed and whether the image will be tried again",
            ["class", "retried"],
            registry=registry,
        )
        self._bytes_in = Counter(
            "imgopt_image_input_bytes", "Bytes downloaded of the images optimized", registry=registry
        )
        self._bytes_out = Counter(
            "imgopt_image_output_bytes", "Bytes stored of the images optimized", registry=registry
        )
        self._reused = Counter(
            "imgopt_images_reused",
            "Images done by pointing at the output of an earlier image of the same unchanged source",
            registry=registry,
        )
        self._reclaimed = Counter(
            "imgopt_leases_reclaimed", "Images put back in the queue because their worker died", registry=registry
        )
        self._images_in_flight = Gauge(
            "imgopt_worker_images_in_flight", "Images this worker is processing now", registry=registry
        )
        self._revalidations_waiting = Gauge(
            "imgopt_worker_revalidations_waiting",
            "Re-upload images this worker has claimed that wait for their origin's turn",
            registry=registry,
        )
        self._image_threads = Gauge(
            "imgopt_worker_image_threads", "Images this worker can process at once", registry=registry
        )
        self._deliveries_in_flight = Gauge(
            "imgopt_worker_deliveries_in_flight", "Webhook attempts this worker is making now", registry=registry
        )
        self._database_up = Gauge(
            "imgopt_worker_database_up",
            "1 while the worker reaches the database, 0 while it backs off",
            registry=registry,
        )
        self._database_up.set(1)
        for outcome in (ImageStatus.OPTIMIZED, ImageStatus.FAILED):
            self._finished.labels(outcome.value)
        for kind in FailureClass:
            for retried in ("true", "false"):
                self._failures.labels(kind.value, retried)

    def recorded(self, outcomes: Iterable[ImageOutcome]) -> None:
        """Counted over the batch, then each counter moved once: every increment takes the counter's lock."""
        finished, failures = collections.Counter(), collections.Counter()
        reused = bytes_in = bytes_out = 0
        for outcome in outcomes:
            if outcome.status.is_terminal:
                finished[outcome.status.value] += 1
            if (output := outcome.output) is not None:
                reused += output.result.reused
                bytes_in += output.result.bytes_in
                bytes_out += output.result.bytes_out
            if outcome.failure is not None:
                failures[outcome.failure.value, "false" if outcome.status.is_terminal else "true"] += 1
        for status, count in finished.items():
            self._finished.labels(status).inc(count)
        for labels, count in failures.items():
            self._failures.labels(*labels).inc(count)
        if reused:
            self._reused.inc(reused)
        if bytes_in:
            self._bytes_in.inc(bytes_in)
        if bytes_out:
            self._bytes_out.inc(bytes_out)

    def reclaimed(self, count: int) -> None:
        self._reclaimed.inc(count)

    def images_in_flight(self, running: int, threads: int) -> None:
        self._images_in_flight.set(running)
        self._image_threads.set(threads)

    def revalidations_waiting(self, waiting: int) -> None:
        self._revalidations_waiting.set(waiting)

    def deliveries_in_flight(self, running: int) -> None:
        self._deliveries_in_flight.set(running)

    def database_reachable(self, up: bool) -> None:
        self._database_up.set(1 if up else 0)
