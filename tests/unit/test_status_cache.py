import asyncio
from uuid import UUID

import pytest

from imgopt.entrypoints.http.status_cache import StatusCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> bytes:
        self.calls += 1
        await self.release.wait()
        return f"body {self.calls}".encode()


ID = UUID(int=1)


def test_a_body_is_served_from_memory_until_it_expires():
    async def scenario():
        clock, load = Clock(), Loader()
        cache = StatusCache(0.25, clock=clock)
        load.release.set()

        first = await cache.get(ID, load)
        clock.now += 0.2
        second = await cache.get(ID, load)
        clock.now += 0.1
        third = await cache.get(ID, load)
        return first, second, third, load.calls

    assert asyncio.run(scenario()) == (b"body 1", b"body 1", b"body 2", 2)


def test_callers_arriving_during_a_load_share_it():
    async def scenario():
        load = Loader()
        cache = StatusCache(0.25, clock=Clock())
        waiting = [asyncio.ensure_future(cache.get(ID, load)) for _ in range(50)]
        await asyncio.sleep(0)
        load.release.set()
        return await asyncio.gather(*waiting), load.calls

    bodies, calls = asyncio.run(scenario())

    assert calls == 1 and set(bodies) == {b"body 1"}


def test_a_failed_load_reaches_every_waiter_and_is_not_kept():
    async def scenario():
        cache = StatusCache(0.25, clock=Clock())
        attempts = []

        async def failing() -> bytes:
            attempts.append(1)
            await asyncio.sleep(0)
            raise LookupError("no such request")

        results = await asyncio.gather(*(cache.get(ID, failing) for _ in range(3)), return_exceptions=True)
        with pytest.raises(LookupError):
            await cache.get(ID, failing)
        return results, len(attempts)

    results, attempts = asyncio.run(scenario())

    assert all(isinstance(result, LookupError) for result in results)
    assert attempts == 2


def test_zero_seconds_keeps_nothing_and_capacity_bounds_the_memory():
    async def scenario(seconds: float, capacity: int) -> int:
        load = Loader()
        load.release.set()
        cache = StatusCache(seconds, capacity=capacity, clock=Clock())
        for n in range(5):
            await cache.get(UUID(int=n), load)
        await cache.get(UUID(int=0), load)
        return load.calls

    assert asyncio.run(scenario(0, 10)) == 6
    assert asyncio.run(scenario(10, 2)) == 6
    assert asyncio.run(scenario(10, 10)) == 5


def test_a_forgotten_body_is_loaded_again_at_once():
    async def scenario() -> int:
        load = Loader()
        load.release.set()
        cache = StatusCache(10, clock=Clock())
        await cache.get(ID, load)

        cache.forget(ID)
        await cache.get(ID, load)
        return load.calls

    assert asyncio.run(scenario()) == 2
