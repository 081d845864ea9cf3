"""POSTs one webhook delivery to a public address, follows no redirect, and reports what came of it."""

import contextlib
import time

import httpx

from imgopt.adapters.net.failures import http_url, place, printable, transport_problem
from imgopt.adapters.net.guard import AddressGuard, UnresolvedHost
from imgopt.adapters.net.transport import GuardedTransport
from imgopt.application.ports import Clock, UnsafeUrl, WebhookSender
from imgopt.domain.webhooks import AttemptResult

# Receivers' answers are not used; read a little so a short reply can leave the connection reusable.
_RESPONSE_BYTES_READ = 4096


class HttpxWebhookSender(WebhookSender):
    def __init__(self, guard: AddressGuard, clock: Clock, timeout: float = 10.0, user_agent: str = "imgopt") -> None:
        """`timeout` bounds the whole attempt, from connecting to the last byte read."""
        self._clock = clock
        self._seconds = timeout
        self._timeout = httpx.Timeout(timeout)
        self._user_agent = user_agent
        self._transport = GuardedTransport(guard)

    def send(self, url: str, headers: dict[str, str], body: bytes, content_type: str) -> AttemptResult:
        at = self._clock.now()
        started = time.monotonic()
        where = "the receiver"
        try:
            target = http_url(url)
            where = place(target)
            request = httpx.Request(
                "POST",
                target,
                headers={**headers, "Content-Type": content_type, "User-Agent": self._user_agent},
                content=body,
                extensions={"timeout": self._timeout.as_dict(), "deadline": started + self._seconds},
            )
            with contextlib.closing(self._transport.handle_request(request)) as response:
                _read_a_little(response)
            return AttemptResult(at, status_code=response.status_code, duration_ms=_ms_since(started))
        except UnresolvedHost as exc:
            error = str(exc)
        except UnsafeUrl as exc:
            error = f"refused: {exc}"
        except httpx.TransportError as exc:
            error, _ = transport_problem(exc, where, self._timeout)
        return AttemptResult(at, error=printable(error), duration_ms=_ms_since(started))

    def close(self) -> None:
        self._transport.close()


def _read_a_little(response: httpx.Response) -> None:
    # The status code is the answer; a receiver that fails or stalls in its body changes nothing.
    read = 0
    with contextlib.suppress(httpx.TransportError):
        for chunk in response.iter_raw():
            read += len(chunk)
            if read >= _RESPONSE_BYTES_READ:
                return


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
