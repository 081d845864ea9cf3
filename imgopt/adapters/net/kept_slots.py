"""Origin slots kept a moment between one download and the next of the same origin: no statement per image.

A re-upload of unchanged images is a stream of 304s from one origin, a few milliseconds each; taking a
slot from the database and giving it back cost two transactions an image, more than the download. A
slot given back is kept in this process instead, and the next download of that origin takes it here.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from imgopt.application.ports import OriginSlot, OriginSlots, Unavailable

log = logging.getLogger(__name__)

# A kept slot goes back to the shared slots once nothing took it for this long: other workers wait
# for it no longer than that (they poll every 50-500 ms).
IDLE_SECONDS = 0.25
# And at most this long after it was taken, however busy: a rest another worker set (a 429), or a slot
# another worker waits for, is then seen by the next take. Its lease is renewed while this process
# holds it (`PostgresOriginSlots`), so a download started on a kept slot keeps it to the end.
KEEP_SECONDS = 5.0


@dataclass(slots=True)
class _Kept:
    slot: OriginSlot
    taken_at: float  # before the take was asked: the lease began no earlier
    idle_since: float = 0.0


class KeptOriginSlots(OriginSlots):
    """`slots` (the shared ones), each slot given back kept for the next download of its origin in this process.

    The cap holds: a kept slot is one this process leased and uses for one download at a time. A
    kept slot goes back after `idle_seconds` unused (on a thread of its own), when `keep_seconds` have
    passed since it was taken, when its origin is rested, and on `close`.
    """

    def __init__(
        self,
        slots: OriginSlots,
        keep_seconds: float = KEEP_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slots = slots
        self._keep_seconds = keep_seconds
        self._idle_seconds = idle_seconds
        self._monotonic = monotonic
        self._lock = threading.Condition()
        self._in_use: dict[OriginSlot, float] = {}  # slot -> taken_at
        self._free: dict[str, list[_Kept]] = {}  # origin -> kept slots, unused
        self._resting: dict[str, float] = {}  # origin -> until when this process rested it: nothing kept
        self._closed = False
        self._sweeper: threading.Thread | None = None
        self._sweeper_sleeps = True  # until told: nothing kept (else it wakes by itself when the first is due)

    def take(self, origin: str) -> OriginSlot | None:
        now = self._monotonic()
        found, expired = None, []
        with self._lock:
            free = self._free.get(origin)
            while free and found is None:
                kept = free.pop()
                if now - kept.taken_at < self._keep_seconds:
                    found = kept.slot
                    self._in_use[found] = kept.taken_at
                else:
                    expired.append(kept.slot)
        for slot in expired:
            self._quietly_give_back(slot)
        if found is not None:
            return found
        slot = self._slots.take(origin)
        if slot is not None:
            with self._lock:
                self._in_use[slot] = now
        return slot

    def give_back(self, slot: OriginSlot) -> None:
        now = self._monotonic()
        with self._lock:
            taken_at = self._in_use.pop(slot, None)
            if taken_at is not None and self._keeps(slot.origin, now) and now - taken_at < self._keep_seconds:
                self._free.setdefault(slot.origin, []).append(_Kept(slot, taken_at, now))
                self._start_sweeper()
                if self._sweeper_sleeps:  # a slot kept later is due later: a sweeper awake comes by itself
                    self._lock.notify()
                return
        self._slots.give_back(slot)

    def rest(self, origin: str, seconds: float) -> None:
        """Rest the origin; its kept slots go back, and so do those in use as their downloads end."""
        with self._lock:
            self._resting[origin] = self._monotonic() + seconds
            resting = self._free.pop(origin, [])
        for kept in resting:
            self._quietly_give_back(kept.slot)
        self._slots.rest(origin, seconds)

    def close(self) -> None:
        """Give back every kept slot now; from now on a slot given back goes straight back."""
        with self._lock:
            self._closed = True
            kept = [kept for free in self._free.values() for kept in free]
            self._free.clear()
            self._lock.notify()
        for one in kept:
            self._quietly_give_back(one.slot)

    def _keeps(self, origin: str, now: float) -> bool:
        """Under the lock: whether a slot of `origin` given back now may be kept."""
        if self._closed:
            return False
        until = self._resting.get(origin)
        if until is not None and until <= now:
            del self._resting[origin]
            until = None
        return until is None

    def _start_sweeper(self) -> None:
        if self._sweeper is None:
            self._sweeper = threading.Thread(target=self._sweep, name="imgopt-origin-slots", daemon=True)
            self._sweeper.start()

    def _sweep(self) -> None:
        while True:
            with self._lock:
                due, wait = self._due(self._monotonic())
                if not due:
                    if self._closed:
                        return
                    self._sweeper_sleeps = wait is None
                    self._lock.wait(wait)
                    continue
            for slot in due:
                try:
                    self._quietly_give_back(slot)
                except Exception:  # a bug: that lease ends by itself, and the sweeper goes on
                    log.exception("could not give back an origin slot kept idle")

    def _due(self, now: float) -> tuple[list[OriginSlot], float | None]:
        """Under the lock: the kept slots to give back now (taken out), and how long until the next is due."""
        due, wait = [], None
        for origin, free in list(self._free.items()):
            keep = []
            for kept in free:
                until = min(kept.idle_since + self._idle_seconds, kept.taken_at + self._keep_seconds)
                if until <= now:
                    due.append(kept.slot)
                else:
                    keep.append(kept)
                    wait = until - now if wait is None else min(wait, until - now)
            if keep:
                self._free[origin] = keep
            else:
                del self._free[origin]
        return due, wait

    def _quietly_give_back(self, slot: OriginSlot) -> None:
        with contextlib.suppress(Unavailable):  # the lease ends by itself
            self._slots.give_back(slot)
