"""Limits per tenant: how fast a key may call, and how many images a tenant may have waiting at once."""

import math
from dataclasses import dataclass

from imgopt.domain.errors import DomainError


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyWaitingImages(DomainError):
    code = "too_many_waiting_images"


@dataclass(frozen=True, slots=True)
class WaitingImagesLimit:
    """At most `limit` images of one tenant pending or in flight at once (0: no limit)."""

    limit: int

    def check(self, waiting: int, adding: int) -> None:
        if self.limit and waiting + adding > self.limit:
            raise TooManyWaitingImages(
                f"this upload has {adding} images and {waiting} of yours are still waiting; at most {self.limit} "
                "may wait at once (IMGOPT_MAX_WAITING_IMAGES): upload again once some have finished"
            )


CALLS_WITH_A_KEY = "calls a minute with this key (IMGOPT_RATE_LIMIT_PER_MINUTE)"
FAILED_KEYS_FROM_AN_ADDRESS = "calls with a wrong API key a minute from this address (IMGOPT_AUTH_FAILURES_PER_MINUTE)"


class TokenBucket:
    """`per_minute` calls a minute, in bursts of up to that many: each call takes a token, tokens refill steadily."""

    def __init__(self, per_minute: int, now: float) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._tokens = self._capacity
        self._at = now

    def take(self, now: float) -> float:
        """0 when the call may go ahead (a token is taken), else the seconds until a token is there."""
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._rate

    def due(self, now: float) -> float:
        """0 when a token is there (none is taken), else the seconds until one is."""
        tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self._rate

    @staticmethod
    def refusal(per_minute: int, wait: float, what: str = CALLS_WITH_A_KEY) -> RateLimited:
        """The 429 for `what` (what is counted, and the setting that sets it), saying when to come back."""
        seconds = max(1, math.ceil(wait))
        return RateLimited(f"more than {per_minute} {what}; try again in {seconds} s", seconds)
