"""A registry of imgopt's own per container, its text exposition, and a server for processes without the API."""

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector, start_http_server
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector


def new_registry(*collectors: Collector) -> CollectorRegistry:
    """A registry with `collectors` and the process's own figures (memory, CPU, open files, the collector).

    Not prometheus_client's global one: a service embedding imgopt keeps its own, and several
    containers in one process (tests) do not collide.
    """
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    for collector in collectors:
        registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The registry's current figures, in the format the scraper asked for (OpenMetrics or Prometheus text)."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


class MetricsServer:
    """`GET /metrics` on a port of its own, from a daemon thread, until `close`."""

    def __init__(self, registry: CollectorRegistry, port: int, host: str = "0.0.0.0") -> None:
        self._server: WSGIServer
        self._thread: threading.Thread
        self._server, self._thread = start_http_server(port, addr=host, registry=registry)
        self.port = self._server.server_port

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
