"""Which URLs outbound HTTP accepts, and how its failures read: short, specific, printable, retry or not."""

import re

import httpx

from imgopt.application.ports import UnsafeUrl
from imgopt.domain.product_csv import url_problem

_ERRNO = re.compile(r"^\[Errno -?\d+\] ")


def http_url(text: str, base: httpx.URL | None = None) -> httpx.URL:
    """`text`, resolved against `base`, as a URL the domain's rule accepts (absolute http(s), a host);
    UnsafeUrl otherwise."""
    try:
        url = base.join(text) if base is not None else httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise UnsafeUrl(f"not a valid URL: {exc}") from None
    problem = url_problem(str(url))
    if problem:
        raise UnsafeUrl(problem)
    return url


def place(url: httpx.URL) -> str:
    """The host (and port, when not the default) a reason names; never the path or credentials."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port else host


def transport_problem(exc: httpx.TransportError, where: str, timeout: httpx.Timeout) -> tuple[str, bool]:
    """What went wrong below HTTP, and whether it is transient (most network trouble is)."""
    detail = _ERRNO.sub("", str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return f"timed out after {seconds(timeout.connect)} connecting to {where}", True
    if isinstance(exc, httpx.ReadTimeout):
        return f"timed out after {seconds(timeout.read)} reading from {where}", True
    if isinstance(exc, httpx.WriteTimeout):
        return f"timed out after {seconds(timeout.write)} sending to {where}", True
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {seconds(timeout.pool)} waiting for a free connection to {where}", True
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect to {where}: {detail}", True
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{where} sent a malformed or incomplete HTTP response: {detail}", True
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return f"cannot send this request to {where}: {detail}", False
    return f"the connection to {where} failed: {detail}", True


def seconds(value: float | None) -> str:
    return f"{round(value or 0, 1):g}s"


def printable(text: str, limit: int = 300) -> str:
    """`text` with control characters escaped and cut to `limit`, safe for logs, CSVs and JSON consumers."""
    escaped = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"
