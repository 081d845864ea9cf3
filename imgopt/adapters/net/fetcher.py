"""Downloads one image: public addresses only, few redirects, a size cap, a deadline, and content sniffed."""

import contextlib
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from imgopt.adapters.net.failures import http_url, place, printable, seconds, transport_problem
from imgopt.adapters.net.guard import AddressGuard, UnresolvedHost
from imgopt.adapters.net.transport import GuardedTransport
from imgopt.application.ports import FetchedImage, FetchFailed, ImageFetcher, NotModified, UnsafeUrl
from imgopt.domain.formats import SNIFF_BYTES, describe_unknown, sniff
from imgopt.domain.image_jobs import FailureClass, ImageFailure
from imgopt.domain.sources import Validators

MiB = 1024 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_BUSY = frozenset({429, 503})  # the statuses whose Retry-After says when the origin may be asked again
_NOT_MODIFIED = 304
MAX_VALIDATOR_LENGTH = 256  # longer ETags or dates are not remembered (nor sent back)
DRAIN_BYTES = 64 * 1024  # read of a 304's or a redirect's body to keep its connection; more, and it is closed


class HttpxImageFetcher(ImageFetcher):
    def __init__(
        self,
        guard: AddressGuard,
        *,
        max_bytes: int,
        connect_timeout: float,
        read_timeout: float,
        total_timeout: float,
        max_redirects: int = 3,
        user_agent: str = "imgopt",
        max_retry_after: float = 600.0,
    ) -> None:
        """`total_timeout` bounds a whole fetch, redirects included, so a server dripping bytes cannot hold a worker.

        A 429 or 503's Retry-After is believed up to `max_retry_after` seconds.
        """
        self._max_retry_after = max_retry_after
        self._max_bytes = max_bytes
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        self._total_timeout = total_timeout
        self._max_redirects = max_redirects
        self._headers = {"User-Agent": user_agent, "Accept": "image/*", "Accept-Encoding": "identity"}
        self._transport = GuardedTransport(guard)

    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
        """With `known` validators the request is conditional (on every hop): a 304 is NotModified."""
        deadline = time.monotonic() + self._total_timeout
        try:
            target = http_url(url)
        except UnsafeUrl as exc:
            raise _failed(str(exc)) from None
        headers = self._headers | _conditional(known)
        for _ in range(self._max_redirects + 1):
            result = self._hop(target, deadline, headers, conditional=bool(known))
            if not isinstance(result, httpx.URL):
                return result
            target = result
        raise _failed(f"more than {self._max_redirects} redirects, the last to {place(target)}")

    def close(self) -> None:
        self._transport.close()

    def _hop(
        self, target: httpx.URL, deadline: float, headers: dict[str, str], conditional: bool
    ) -> FetchedImage | NotModified | httpx.URL:
        """The image at `target`, NotModified, or the URL it redirects to."""
        extensions = {"timeout": self._timeout.as_dict(), "deadline": deadline}
        try:
            request = httpx.Request("GET", target, headers=headers, extensions=extensions)
            with contextlib.closing(self._transport.handle_request(request)) as response:
                if response.status_code in _REDIRECT_STATUSES:
                    _drain(response)
                    return _redirect_target(response, target)
                if response.status_code == _NOT_MODIFIED and conditional:
                    _drain(response)
                    return NotModified(_validators(response))
                _check_status(response, target, self._max_retry_after)
                data = self._body(response, target)
                validators = _validators(response)
        except UnresolvedHost as exc:
            raise _failed(str(exc), exc.temporary) from None
        except UnsafeUrl as exc:
            raise _failed(f"unsafe address: {exc}") from None
        except httpx.TransportError as exc:
            if time.monotonic() >= deadline:
                limit = seconds(self._total_timeout)
                raise _failed(f"gave up on {place(target)}: the whole fetch may take {limit} at most", True) from None
            reason, transient = transport_problem(exc, place(target), self._timeout)
            raise _failed(reason, transient) from None
        image_format = sniff(data[:SNIFF_BYTES])
        if image_format is None:
            problem = f"{place(target)} did not send an allowed image: {describe_unknown(data[:SNIFF_BYTES])}"
            raise _failed(problem, kind=FailureClass.IMAGE)
        return FetchedImage(data, image_format.media_type, validators)

    def _body(self, response: httpx.Response, target: httpx.URL) -> bytes:
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding != "identity":
            # Decoding would let a small compressed body expand far past the cap before it is counted.
            raise _failed(f"{place(target)} sent a {encoding}-encoded body though none was asked for")
        declared = _content_length(response)
        if declared is not None and declared > self._max_bytes:
            raise _failed(f"the image is {_size(declared)}, over the {_size(self._max_bytes)} limit")
        # Chunks are joined once at the end: growing one buffer would copy the image again and again.
        chunks: list[bytes] = []
        size = 0
        sniffed = False
        for chunk in response.iter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size > self._max_bytes:
                raise _failed(f"the image is larger than the {_size(self._max_bytes)} limit")
            if not sniffed and size >= SNIFF_BYTES:
                sniffed = True
                if sniff(b"".join(chunks)[:SNIFF_BYTES]) is None:
                    break  # not an image: say so now rather than after downloading the rest of it
        if not size:
            raise _failed(f"{place(target)} sent an empty response")
        return b"".join(chunks)


def _drain(response: httpx.Response) -> None:
    """Read the (empty, or short) body of an answer without one to keep, so that its connection goes back to
    the pool: closed unread, it is closed, and the next request to the origin pays a new connection (a 304
    re-upload, one per image). A body longer than DRAIN_BYTES is left unread: that connection goes, as
    it does when the body fails to arrive (the answer is in hand all the same)."""
    size = 0
    with contextlib.suppress(httpx.TransportError):
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > DRAIN_BYTES:
                return


def _conditional(known: Validators) -> dict[str, str]:
    headers = {}
    if known.etag:
        headers["If-None-Match"] = known.etag
    if known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    return headers


def _validators(response: httpx.Response) -> Validators:
    """The response's ETag and Last-Modified, when they are short and printable enough to send back."""

    def usable(name: str) -> str | None:
        value = response.headers.get(name, "").strip()
        return (
            value if value and len(value) <= MAX_VALIDATOR_LENGTH and value.isprintable() and value.isascii() else None
        )

    return Validators(usable("etag"), usable("last-modified"))


def _redirect_target(response: httpx.Response, target: httpx.URL) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise _failed(f"HTTP {response.status_code} from {place(target)} without a Location header")
    try:
        return http_url(location, base=target)
    except UnsafeUrl as exc:
        raise _failed(f"{place(target)} redirected to a refused URL: {exc}") from None


def _check_status(response: httpx.Response, target: httpx.URL, max_retry_after: float) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = f"HTTP {status} from {place(target)}"
    retry_after = retry_after_seconds(response.headers.get("retry-after"), max_retry_after) if status in _BUSY else None
    if retry_after is not None:
        reason += f", which asked to be left alone for {seconds(retry_after)}"
    failure = ImageFailure(printable(reason), status == 429 or 500 <= status < 600, retry_after=retry_after)
    raise FetchFailed(failure, status)


def retry_after_seconds(value: str | None, cap: float, now: datetime | None = None) -> float | None:
    """A Retry-After header's delay in seconds (a number of seconds, or an HTTP date), at most `cap`;
    None when there is none or it cannot be read."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        delay = float(value)
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        delay = (moment - (now or datetime.now(UTC))).total_seconds()
    return min(max(delay, 0.0), cap)


def _content_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _size(count: int) -> str:
    return f"{round(count / MiB, 1):g} MiB" if count >= MiB else f"{count} bytes"


def _failed(reason: str, transient: bool = False, kind: FailureClass = FailureClass.FETCH) -> FetchFailed:
    return FetchFailed(ImageFailure(printable(reason), transient, kind))
