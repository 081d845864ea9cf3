"""Who is calling: the API key on every call (but the open routes), checked, then counted against its rate limit."""

import time
from collections import OrderedDict
from collections.abc import Callable

from litestar import Request
from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.openapi.spec import Components, SecurityScheme

from imgopt.application.use_cases.keys import Authenticate
from imgopt.domain.limits import TokenBucket
from imgopt.domain.tenancy import Caller

# Routes a route handler opts out with `opt={OPEN: True}`; the OpenAPI document is matched by path.
OPEN = "exclude_from_auth"
OPEN_PATHS = ["^/schema"]


class RateLimiter:
    """A token bucket per key (per client address when the API takes no key), in this process only.

    Each API process counts on its own, so N processes behind a balancer admit up to N times the limit.
    At most `capacity` buckets are kept: the longest unused are dropped, which only forgives them.
    """

    def __init__(self, per_minute: int, capacity: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._capacity = capacity
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def admit(self, who: str) -> None:
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
            raise TokenBucket.refusal(self._per_minute, wait)


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    """`Authorization: Bearer KEY` or `X-API-Key: KEY`. A key known to this process is checked on the
    event loop; another is looked up on a thread, so the loop never waits on the database."""

    def __init__(self, app, authenticate: Callable[[], Authenticate], limiter: RateLimiter, **options) -> None:
        super().__init__(app, **options)
        self._authenticate = authenticate
        self._limiter = limiter

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        presented = presented_key(connection.headers.get("authorization"), connection.headers.get("x-api-key"))
        authenticate = self._authenticate()
        caller = authenticate.at_once(presented) or await sync_to_thread(authenticate, presented)
        client = connection.client.host if connection.client else "unknown"
        self._limiter.admit(caller.rate_key if caller.key_id else f"address {client}")
        return AuthenticationResult(user=caller, auth=None)


def presented_key(authorization: str | None, api_key: str | None) -> str | None:
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        return credentials.strip() if scheme.lower() == "bearer" else None
    return api_key.strip() if api_key else None


def api_key_middleware(authenticate: Callable[[], Authenticate], per_minute: int) -> DefineMiddleware:
    return DefineMiddleware(
        ApiKeyMiddleware, authenticate=authenticate, limiter=RateLimiter(per_minute), exclude=OPEN_PATHS
    )


def caller_of(request: Request) -> Caller:
    """The `caller` dependency: whoever the middleware found behind the call's key."""
    return request.user


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
