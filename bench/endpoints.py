"""The outside world of an end-to-end run, on loopback in the bench process: an image origin and a webhook receiver."""

import threading
import time
from collections import Counter
from dataclasses import dataclass

from imgopt.entrypoints.demo.local_http import LoopbackServer, QuietHandler


class Origin(LoopbackServer):
    """Serves in-memory JPEGs at `/<anything>/<name>`: the last path segment picks the file.

    The prefix lets every run ask for its images under URLs never asked before (so nothing in
    the service could answer from a cache keyed by URL) while the bytes stay the same ones the
    reference works on.
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        self.requests = 0
        self.paths: Counter[str] = Counter()  # how often each path was asked for
        self._lock = threading.Lock()
        origin = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with origin._lock:
                    origin.requests += 1
                    origin.paths[self.path] += 1
                data = files.get(self.path.rsplit("/", 1)[-1])
                self.reply(*(200, data, "image/jpeg") if data is not None else (404, b"not found"))

        super().__init__(Handler)


@dataclass(frozen=True)
class Arrival:
    """One webhook POST: when its body had been read (perf_counter and wall clock), its headers and body."""

    at: float
    wall: float
    headers: dict[str, str]
    body: bytes


class Receiver(LoopbackServer):
    """Answers every POST 204 and keeps it, with the moment its body had been read; `wait` for the next one."""

    def __init__(self) -> None:
        self._arrivals: list[Arrival] = []
        self._condition = threading.Condition()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrival = Arrival(
                    time.perf_counter(), time.time(), {k.lower(): v for k, v in self.headers.items()}, body
                )
                with receiver._condition:
                    receiver._arrivals.append(arrival)
                    receiver._condition.notify_all()
                self.reply(204)

        super().__init__(Handler)

    def wait(self, count: int, timeout: float) -> Arrival | None:
        """The `count`-th arrival since the start (1-based), once it has come; None after `timeout` seconds."""
        with self._condition:
            if not self._condition.wait_for(lambda: len(self._arrivals) >= count, timeout):
                return None
            return self._arrivals[count - 1]

    @property
    def count(self) -> int:
        with self._condition:
            return len(self._arrivals)
