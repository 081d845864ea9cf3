"""A micro-cache of encoded status documents: pollers get answers at most a fraction of a second old."""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID


class StatusCache:
    """Status bodies by request id, each kept `seconds` (0 keeps nothing), at most `capacity` of them.

    Clients poll the status of their uploads, often many at once: serving each id from memory for
    a quarter of a second turns a flood of identical queries into a few a second per upload.
    """

    def __init__(self, seconds: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[UUID, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, request_id: UUID) -> bytes | None:
        with self._lock:
            entry = self._entries.get(request_id)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, request_id: UUID, body: bytes) -> None:
        if self._seconds <= 0:
            return
        with self._lock:
            self._entries[request_id] = (self._clock() + self._seconds, body)
            self._entries.move_to_end(request_id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
