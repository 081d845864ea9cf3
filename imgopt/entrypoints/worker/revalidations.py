"""The worker's revalidations waiting for their origin's turn, and the chains its download threads take of them."""

import math
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass

from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.image_jobs import ImageJob
from imgopt.domain.origins import OriginLimits, origin_of


@dataclass(eq=False, slots=True)
class Chain:
    """Revalidations of one origin that one download thread asks in turn."""

    origin: str
    jobs: list[ImageJob]


class RevalidationQueue:
    """Images claimed in groups that most likely end at their download (a re-upload's 304s), queued by origin.

    Each origin's are asked by no more download threads than its slots (`limits`), so none waits for a
    slot another of them holds; each thread takes a chain of them in turn, a group spread over its
    origin's slots (`group`), over its kept connection and slot. A chain that stops early (an image
    to optimize, the runner stopping) gives back the rest, first in line again. A tenant holds two groups
    at most (`room`), running or waiting.
    """

    def __init__(self, group: int, limits: OriginLimits) -> None:
        self._group = group
        self._limits = limits
        self._queued: dict[str, deque[ImageJob]] = {}  # claimed, not begun, by origin
        self._running: set[Chain] = set()

    def __len__(self) -> int:
        return sum(map(len, self._queued.values()))

    def __bool__(self) -> bool:
        return bool(self._queued)

    def __iter__(self) -> Iterator[ImageJob]:
        """The images waiting (not on a thread yet)."""
        return (job for queued in self._queued.values() for job in queued)

    def wants(self, job: ImageJob) -> bool:
        """Whether `job` goes this way: groups are on, and its source is remembered with validators."""
        return self._group > 0 and job.source is not None and job.source.revalidates(job.request_id)

    def add(self, job: ImageJob) -> None:
        self._queued.setdefault(origin_of(job.url), deque()).append(job)

    def chains(self) -> Iterator[Chain]:
        """The chains to start now: as many per origin as its free slots."""
        for origin in list(self._queued):
            queued = self._queued[origin]
            slots, longest = self._limits.of(origin), self.chain_length(origin)
            running = sum(chain.origin == origin for chain in self._running)
            while queued and (free := slots - running) > 0:
                length = min(longest, math.ceil(len(queued) / free))
                chain = Chain(origin, [queued.popleft() for _ in range(length)])
                self._running.add(chain)
                running += 1
                yield chain
            if not queued:
                del self._queued[origin]

    def ended(self, chain: Chain, rest: list[ImageJob]) -> None:
        """`chain` is over; `rest`, the images it did not begin, go first in line again."""
        self._running.discard(chain)
        if rest:
            self._queued.setdefault(chain.origin, deque()).extendleft(reversed(rest))

    def room(self) -> DownloadRoom:
        """Each tenant's room for more: two groups held (running or waiting) at most."""
        held = [job for chain in self._running for job in chain.jobs]
        counts = Counter(job.tenant_id for job in (*held, *self) if job.tenant_id is not None)
        return DownloadRoom(2 * self._group, counts)

    def chain_length(self, origin: str) -> int:
        """Revalidations one download thread takes in turn: a group spread over its origin's slots."""
        return max(1, math.ceil(self._group / self._limits.of(origin)))

    def clear(self) -> None:
        self._queued.clear()
        self._running.clear()
