"""A micro-cache of encoded status documents: pollers get answers at most a fraction of a second old."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from uuid import UUID


class StatusCache:
    """Status bodies by request id, each kept `seconds` (0 keeps nothing), at most `capacity` of them.

    Clients poll the status of their uploads, often many at once. Serving each id from memory for
    a quarter of a second, and loading it once however many ask while it loads, turns a flood of
    identical queries into a few a second per upload. Used from the event loop only.
    """

    def __init__(self, seconds: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[UUID, tuple[float, bytes]] = OrderedDict()
        self._loading: dict[UUID, asyncio.Future[bytes]] = {}

    async def get(self, request_id: UUID, load: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached body, or the one `load` gives; concurrent callers share a single load."""
        entry = self._entries.get(request_id)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        loading = self._loading.get(request_id)
        if loading is None:
            loading = self._loading[request_id] = asyncio.ensure_future(self._load(request_id, load))
        return await asyncio.shield(loading)

    async def _load(self, request_id: UUID, load: Callable[[], Awaitable[bytes]]) -> bytes:
        try:
            body = await load()
        finally:
            del self._loading[request_id]
        if self._seconds > 0:
            self._entries[request_id] = (self._clock() + self._seconds, body)
            self._entries.move_to_end(request_id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return body
