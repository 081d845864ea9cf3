"""Origin slots kept between one download and the next of the same origin: fewer statements, the same cap."""

import threading

import pytest

from imgopt.adapters.net.kept_slots import KeptOriginSlots
from imgopt.application.ports import OriginSlot, OriginSlots
from tests.support import wait_for


class SharedSlots(OriginSlots):
    """The database's slots: `cap` per origin, and a note of every call."""

    def __init__(self, cap: int = 2) -> None:
        self.cap = cap
        self.held: dict[str, set[int]] = {}
        self.calls: list[tuple] = []
        self._lock = threading.Lock()

    def take(self, origin: str) -> OriginSlot | None:
        with self._lock:
            self.calls.append(("take", origin))
            held = self.held.setdefault(origin, set())
            free = [n for n in range(self.cap) if n not in held]
            if not free:
                return None
            held.add(free[0])
            return OriginSlot(origin, free[0])

    def give_back(self, slot: OriginSlot) -> None:
        with self._lock:
            self.calls.append(("give_back", slot.origin))
            self.held[slot.origin].discard(slot.slot)

    def rest(self, origin: str, seconds: float) -> None:
        self.calls.append(("rest", origin))

    def count(self, call: str) -> int:
        with self._lock:
            return sum(name == call for name, _ in self.calls)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def shared() -> SharedSlots:
    return SharedSlots()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kept(shared, clock):
    slots = KeptOriginSlots(shared, keep_seconds=5.0, idle_seconds=60.0, monotonic=clock)
    yield slots
    slots.close()


def test_consecutive_downloads_of_one_origin_take_one_slot_once(kept, shared):
    for _ in range(100):
        kept.give_back(kept.take("a.example"))

    assert shared.calls == [("take", "a.example")]
    assert shared.held == {"a.example": {0}}


def test_the_cap_holds_a_kept_slot_serves_one_download_at_a_time(kept, shared):
    first, second = kept.take("a.example"), kept.take("a.example")
    assert kept.take("a.example") is None  # both of the origin's slots are in use
    kept.give_back(first)

    assert kept.take("a.example") == first
    assert kept.take("a.example") is None
    assert {first.slot, second.slot} == {0, 1}


def test_another_origin_gets_slots_of_its_own(kept, shared):
    kept.give_back(kept.take("a.example"))

    slot = kept.take("b.example")

    assert slot.origin == "b.example"
    assert shared.count("take") == 2


def test_a_slot_taken_long_enough_ago_goes_back_and_a_fresh_one_is_taken(kept, shared, clock):
    kept.give_back(kept.take("a.example"))
    clock.now += 5.0

    kept.take("a.example")

    assert [name for name, _ in shared.calls] == ["take", "give_back", "take"]


def test_a_slot_in_use_past_its_keeping_time_goes_straight_back(kept, shared, clock):
    slot = kept.take("a.example")
    clock.now += 6.0

    kept.give_back(slot)

    assert shared.held == {"a.example": set()}


def test_resting_an_origin_gives_its_kept_slots_back_first(kept, shared):
    kept.give_back(kept.take("a.example"))

    kept.rest("a.example", 30.0)

    assert [name for name, _ in shared.calls] == ["take", "give_back", "rest"]
    assert shared.held == {"a.example": set()}


def test_a_slot_in_use_when_its_origin_is_rested_goes_back_as_its_download_ends(kept, shared, clock):
    slot = kept.take("a.example")

    kept.rest("a.example", 30.0)
    kept.give_back(slot)

    assert shared.held == {"a.example": set()}  # the next take asks the shared slots, which know of the rest
    clock.now += 31.0
    kept.give_back(kept.take("a.example"))
    assert shared.held == {"a.example": {0}}  # rested no more: kept again


def test_closing_gives_every_kept_slot_back_and_then_keeps_none(kept, shared):
    kept.give_back(kept.take("a.example"))
    kept.give_back(kept.take("b.example"))

    kept.close()
    kept.give_back(kept.take("a.example"))

    assert shared.held == {"a.example": set(), "b.example": set()}


def test_a_slot_unused_for_its_idle_time_goes_back_by_itself(shared):
    slots = KeptOriginSlots(shared, keep_seconds=5.0, idle_seconds=0.01)
    try:
        slots.give_back(slots.take("a.example"))

        wait_for(lambda: shared.count("give_back") == 1, timeout=5, message="the idle slot given back")
        assert shared.held == {"a.example": set()}
    finally:
        slots.close()
