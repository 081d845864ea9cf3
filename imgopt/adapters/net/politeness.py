"""A fetcher that treats each origin as someone's server: a few downloads at once, and a rest when it asks."""

import contextlib
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from imgopt.adapters.net.failures import printable
from imgopt.application.ports import (
    FetchedImage,
    FetchFailed,
    ImageFetcher,
    NotModified,
    OriginResting,
    OriginSlot,
    OriginSlots,
    Unavailable,
)
from imgopt.domain.image_jobs import ImageFailure
from imgopt.domain.origins import origin_of
from imgopt.domain.sources import Validators

T = TypeVar("T")

FIRST_WAIT_SECONDS = 0.05
LONGEST_WAIT_SECONDS = 0.5


class PoliteFetcher(ImageFetcher):
    """Each download holds one of its origin's slots (`OriginSlots`, shared by every worker), waiting
    up to `wait_seconds` on the download thread for one to come free; never an optimizing thread.

    An origin that answers 429 or 503 with Retry-After is left alone that long (the fetcher caps
    it): no worker takes a slot of it or claims its images meanwhile, and the image is retried
    then. `on_backoff(status)` hears each such answer (the metrics). An image that waited for its
    origin's turn and did not get it was never tried: that failure is not charged an attempt.
    """

    def __init__(
        self,
        fetcher: ImageFetcher,
        slots: OriginSlots,
        wait_seconds: float,
        on_backoff: Callable[[int], None],
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._slots = slots
        self._wait_seconds = wait_seconds
        self._on_backoff = on_backoff
        self._monotonic = monotonic
        self._closed = threading.Event()
        self._sleep = sleep or self._closed.wait

    def close(self) -> None:
        """Stop every wait for a slot at once (the worker is stopping): those attempts fail as transient."""
        self._closed.set()

    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
        origin = origin_of(url)
        slot = self._slot(origin)
        try:
            return self._fetcher.fetch(url, known)
        except FetchFailed as exc:
            if exc.failure.retry_after is not None and exc.status is not None:
                with contextlib.suppress(Unavailable):  # the image is retried later all the same
                    self._slots.rest(origin, exc.failure.retry_after)
                self._on_backoff(exc.status)
            raise
        finally:
            with contextlib.suppress(Unavailable):  # the lease ends by itself
                self._slots.give_back(slot)

    def _slot(self, origin: str) -> OriginSlot:
        deadline = self._monotonic() + self._wait_seconds
        pause = FIRST_WAIT_SECONDS
        while True:
            try:
                slot = self._guarded(lambda: self._slots.take(origin), origin)
            except OriginResting as resting:
                reason = f"{origin} asked to be left alone; trying again in {resting.seconds:.0f} s"
                failure = ImageFailure(printable(reason), True, retry_after=resting.seconds, charged=False)
                raise FetchFailed(failure) from None
            if slot is not None:
                return slot
            if self._closed.is_set():
                reason = f"stopped waiting for a download slot of {origin}"
                raise FetchFailed(ImageFailure(reason, transient=True, charged=False))
            if self._monotonic() >= deadline:
                reason = f"{origin} already has as many downloads as it may have for {self._wait_seconds:g} s"
                raise FetchFailed(ImageFailure(printable(reason), transient=True, charged=False))
            self._sleep(pause * (0.5 + random.random()))  # noqa: S311 - spreads the workers, not a secret
            pause = min(pause * 2, LONGEST_WAIT_SECONDS)

    @staticmethod
    def _guarded(call: Callable[[], T], origin: str) -> T:
        try:
            return call()
        except Unavailable as exc:
            reason = f"could not take a download slot of {origin}: {exc}"
            raise FetchFailed(ImageFailure(printable(reason), transient=True)) from None
