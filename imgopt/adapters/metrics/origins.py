"""How often origins asked the workers to back off."""

from prometheus_client import CollectorRegistry, Counter

BACKOFF_STATUSES = (429, 503)


class OriginBackoffs:
    """Counts 429 and 503 answers with a Retry-After, by status only: a label per origin host would
    grow with every customer's server (unbounded cardinality); the host is in the image's reason."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._counter = Counter(
            "imgopt_origin_backoff",
            "Origins that answered 429 or 503 with Retry-After, each then left alone that long, by status",
            ["status"],
            registry=registry,
        )
        for status in BACKOFF_STATUSES:
            self._counter.labels(str(status))

    def __call__(self, status: int) -> None:
        self._counter.labels(str(status) if status in BACKOFF_STATUSES else "other").inc()
