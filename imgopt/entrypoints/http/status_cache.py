"""A micro-cache of encoded status documents: pollers get answers at most a fraction of a second old."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable


class StatusCache:
    """Status bodies by (tenant, request id), each kept `seconds` (0 keeps nothing), at most `capacity` of them.

    Clients poll the status of their uploads, often many at once. Serving each id from memory for
    a quarter of a second, and loading it once however many ask while it loads, turns a flood of
    identical queries into a few a second per upload. Used from the event loop only.
    """

    def __init__(self, seconds: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Future[bytes]] = {}

    async def get(self, key: Hashable, load: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached body, or the one `load` gives; concurrent callers share a single load."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(self._load(key, load))
        return await asyncio.shield(loading)

    def forget(self, key: Hashable) -> None:
        """Drop what is kept for `key`: this process changed it, so its next reader sees the change."""
        self._entries.pop(key, None)

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[bytes]]) -> bytes:
        try:
            body = await load()
        finally:
            del self._loading[key]
        if self._seconds > 0:
            self._entries[key] = (self._clock() + self._seconds, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return body
