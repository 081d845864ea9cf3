"""Ports timed and counted: bound in the container in place of the fetcher, optimizer and webhook sender they wrap."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram

from imgopt.application.ports import (
    FetchedImage,
    ImageFetcher,
    ImageOptimizer,
    NotModified,
    OptimizedImage,
    WebhookSender,
)
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.sources import Validators
from imgopt.domain.webhooks import AttemptResult

# Downloads and webhook attempts: from a loopback origin (milliseconds) to the 60 s download deadline.
_NETWORK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0)
# Optimizing: from a thumbnail (a millisecond) to a 50-megapixel photo in AVIF (seconds).
_CPU_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class TimedFetcher(ImageFetcher):
    def __init__(self, fetcher: ImageFetcher, registry: CollectorRegistry) -> None:
        self._fetcher = fetcher
        self._seconds = Histogram(
            "imgopt_fetch_duration_seconds",
            "Time to download an image, redirects included, by outcome (ok or failed)",
            ["outcome"],
            buckets=_NETWORK_BUCKETS,
            registry=registry,
        )

    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
        with _timed(self._seconds):
            return self._fetcher.fetch(url, known)


class TimedOptimizer(ImageOptimizer):
    """Times the work itself: bind it inside the decorator that waits for a CPU slot."""

    def __init__(self, optimizer: ImageOptimizer, registry: CollectorRegistry) -> None:
        self._optimizer = optimizer
        self._seconds = Histogram(
            "imgopt_optimize_duration_seconds",
            "Time to decode, transform and encode an image, by outcome (ok or failed)",
            ["outcome"],
            buckets=_CPU_BUCKETS,
            registry=registry,
        )

    @property
    def producer(self) -> str:
        return self._optimizer.producer

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        with _timed(self._seconds):
            return self._optimizer.optimize(data, options)


class CountedSender(WebhookSender):
    def __init__(self, sender: WebhookSender, registry: CollectorRegistry) -> None:
        self._sender = sender
        self._attempts = Counter(
            "imgopt_webhook_attempts",
            "Webhook delivery attempts, by result: the receiver's status class (2xx … 5xx) or error (no answer)",
            ["result"],
            registry=registry,
        )
        self._seconds = Histogram(
            "imgopt_webhook_attempt_duration_seconds",
            "Time a webhook receiver took to answer, or to fail",
            buckets=_NETWORK_BUCKETS,
            registry=registry,
        )
        for result in ("2xx", "3xx", "4xx", "5xx", "error"):
            self._attempts.labels(result)

    def send(self, url: str, headers: dict[str, str], body: bytes, content_type: str) -> AttemptResult:
        started = time.perf_counter()
        result = self._sender.send(url, headers, body, content_type)
        self._seconds.observe(time.perf_counter() - started)
        self._attempts.labels(_result_class(result)).inc()
        return result


@contextmanager
def _timed(histogram: Histogram) -> Iterator[None]:
    """Observe how long the block took, labelled `ok`, or `failed` when it raised."""
    started, outcome = time.perf_counter(), "failed"
    try:
        yield
        outcome = "ok"
    finally:
        histogram.labels(outcome).observe(time.perf_counter() - started)


def _result_class(result: AttemptResult) -> str:
    if result.status_code is None:
        return "error"
    return f"{min(max(result.status_code // 100, 1), 5)}xx"
