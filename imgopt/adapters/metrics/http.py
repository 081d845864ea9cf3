"""What the API reports: requests by route, method and status, and how long they took."""

from prometheus_client import CollectorRegistry, Counter, Histogram

# From a cached status poll (about a millisecond) to a large upload (tens of seconds).
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            "imgopt_http_requests",
            "HTTP requests answered, by route template, method and status code",
            ["route", "method", "status"],
            registry=registry,
        )
        self._seconds = Histogram(
            "imgopt_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by route template and method",
            ["route", "method"],
            buckets=_BUCKETS,
            registry=registry,
        )

    def answered(self, route: str, method: str, status: int, seconds: float) -> None:
        self._requests.labels(route, method, str(status)).inc()
        self._seconds.labels(route, method).observe(seconds)
