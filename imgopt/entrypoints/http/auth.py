"""Who is calling: the API key on every call (but the open routes), checked, then counted against its rate limit."""

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from uuid import UUID

from litestar import Request
from litestar.concurrency import sync_to_thread
from litestar.middleware import DefineMiddleware
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Receive, Scope, Send

from imgopt.application.use_cases.api_keys import Authenticate
from imgopt.domain.limits import CALLS_WITH_A_KEY, FAILED_KEYS_FROM_AN_ADDRESS, TokenBucket
from imgopt.domain.tenancy import Caller, Unauthenticated

# Routes opt out with `opt={OPEN: True}` (on a handler, controller or router); the OpenAPI document by its path.
OPEN = "exclude_from_auth"
OPEN_PREFIX = "/schema"


class RateLimiter:
    """A token bucket per key (per client address when the API takes no key), in this process only.

    Each API process counts on its own, so N processes behind a balancer admit up to N times the limit.
    At most `capacity` buckets are kept: the longest unused are dropped, which only forgives them.
    """

    def __init__(
        self,
        per_minute: int,
        what: str = CALLS_WITH_A_KEY,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_minute = per_minute
        self._what = what
        self._capacity = capacity
        self._clock = clock
        self._buckets: OrderedDict[Hashable, TokenBucket] = OrderedDict()

    def admit(self, who: Hashable) -> None:
        """Take a token for `who`, or raise RateLimited saying when to come back."""
        if not self._per_minute:
            return
        now = self._clock()
        bucket = self._buckets.get(who)
        if bucket is None:
            bucket = self._buckets[who] = TokenBucket(self._per_minute, now)
            if len(self._buckets) > self._capacity:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(who)
        wait = bucket.take(now)
        if wait:
            raise TokenBucket.refusal(self._per_minute, wait, self._what)

    def check(self, who: Hashable) -> None:
        """Raise RateLimited if `who` has no token left, taking none."""
        bucket = self._buckets.get(who) if self._per_minute else None
        wait = bucket.due(self._clock()) if bucket else 0.0
        if wait:
            raise TokenBucket.refusal(self._per_minute, wait, self._what)


class ApiKeyMiddleware:
    """`Authorization: Bearer KEY` or `X-API-Key: KEY` on every route but the open ones and OPTIONS.

    A plain ASGI middleware, reading the raw headers once: it runs on every call, the status polls
    answered from memory included, so it costs a few microseconds. A key this process remembers
    is checked on the event loop; another is looked up on a thread, so the loop never waits on
    the database. Wrong keys are counted per client address: past `failures`' budget, that address
    gets a 429 before any key it sends is looked up, so keys cannot be guessed at speed.
    """

    def __init__(
        self, app: ASGIApp, authenticate: Callable[[], Authenticate], limiter: RateLimiter, failures: RateLimiter
    ) -> None:
        self.app = app
        self._authenticate = authenticate
        self._limiter = limiter
        self._failures = failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "OPTIONS" and not _is_open(scope):
            scope["user"] = await self._caller(scope)
        await self.app(scope, receive, send)

    async def _caller(self, scope: Scope) -> Caller:
        presented = presented_key(scope["headers"])
        client = scope.get("client")
        address = client[0] if client else "unknown"
        authenticate = self._authenticate()
        try:
            caller = authenticate.at_once(presented)
            if caller is None:  # not a key this process remembers: looked up, unless this address is out of tries
                self._failures.check(address)
                caller = await sync_to_thread(authenticate, presented)
        except Unauthenticated:
            if presented is not None:  # a call without any key is not a guess
                self._failures.admit(address)
            raise
        self._limiter.admit(caller.key_id or address)
        return caller


def _is_open(scope: Scope) -> bool:
    return scope["route_handler"].opt.get(OPEN, False) or scope["path"].startswith(OPEN_PREFIX)


def presented_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key in `Authorization: Bearer …`, else in `X-API-Key`; None when neither holds one."""
    api_key = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").strip().partition(" ")
            return credentials.strip() if scheme.lower() == "bearer" else None
        if name == b"x-api-key":
            api_key = value.decode("latin-1").strip()
    return api_key or None


def api_key_middleware(
    authenticate: Callable[[], Authenticate], per_minute: int, failures_per_minute: int
) -> DefineMiddleware:
    return DefineMiddleware(
        ApiKeyMiddleware,
        authenticate=authenticate,
        limiter=RateLimiter(per_minute),
        failures=RateLimiter(failures_per_minute, FAILED_KEYS_FROM_AN_ADDRESS),
    )


def tenant_of(request: Request) -> UUID:
    """The tenant of whoever the middleware found behind the call's key (read off the request: no
    dependency to resolve, which costs a task per call in Litestar)."""
    return request.user.tenant_id


def security_scheme() -> dict:
    """What the OpenAPI document says of keys: a bearer token, or the same key in X-API-Key; either will do."""
    return {
        "components": Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http", scheme="bearer", description="An imgopt API key (`imgopt keys create`)"
                ),
                "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
            }
        ),
        "security": [{"bearer": []}, {"apiKey": []}],
    }
