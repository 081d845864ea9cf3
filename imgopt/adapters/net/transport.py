"""An httpx transport whose connections go only to the addresses the AddressGuard vouched for."""

import contextlib
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from imgopt.adapters.net.guard import AddressGuard

# The deadline of the exchange running in this context, as a time.monotonic() value.
_deadline: ContextVar[float | None] = ContextVar("imgopt_deadline", default=None)

READ_BYTES = 1024 * 1024

# Most specific first: a ReadTimeout is also a TimeoutException, and must stay a ReadTimeout.
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


class GuardedTransport(httpx.BaseTransport):
    """HTTP/1.1 over guarded connections; TLS still verifies the certificate against the URL's host name.

    A refused address raises UnsafeUrl out of `handle_request`. The request extension `deadline`
    (a time.monotonic() value) bounds the whole exchange, body included: per-read timeouts alone
    would let a server dripping one byte at a time hold the caller for hours. httpx's own
    HTTPTransport offers no public way to choose the network backend, so this drives httpcore.

    Callers send through `handle_request` rather than an httpx.Client: a client keeps cookies
    between unrelated requests and parses every Location header, even when not following it.
    """

    def __init__(self, guard: AddressGuard, ssl_context: ssl.SSLContext | None = None) -> None:
        self._backend = GuardedBackend(guard)
        # The limits are httpx's defaults; an idle connection is dropped after 5 s rather than kept forever.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=self._backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = request.extensions.get("deadline")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _until(deadline), _as_httpx_errors():
            response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, deadline),
            extensions=response.extensions,
        )

    def close(self) -> None:
        """Close every connection, aborting exchanges still running on other threads (they fail at once)."""
        self._backend.abort_all()
        self._pool.close()


class GuardedBackend(httpcore.SyncBackend):
    """Resolves through the guard and connects to the vouched addresses in order; never looks the name up again."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._streams: weakref.WeakSet[_DeadlineStream] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False

    def abort_all(self) -> None:
        """Abort every open connection, and any opened from now on (a thread may be connecting right now)."""
        with self._lock:
            self._closed = True
            streams = list(self._streams)
        for stream in streams:
            stream.abort()

    def track(self, stream: "_DeadlineStream") -> "_DeadlineStream":
        with self._lock:
            if not self._closed:
                self._streams.add(stream)
                return stream
        stream.abort()
        return stream

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if self._closed:
            raise httpcore.ConnectError("the transport is closed")
        *fallbacks, last = self._guard.resolve(host, port)
        for _, address in fallbacks:
            with contextlib.suppress(httpcore.ConnectError, httpcore.ConnectTimeout):
                return self._connect(address, port, timeout, local_address, socket_options)
        return self._connect(last[1], port, timeout, local_address, socket_options)

    def _connect(
        self,
        address: str,
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        stream = super().connect_tcp(address, port, timeout, local_address, socket_options)
        return self.track(_DeadlineStream(stream, self))


class _DeadlineStream(httpcore.NetworkStream):
    """Cuts every read, write and TLS handshake short at the deadline of the exchange using the connection."""

    def __init__(self, stream: httpcore.NetworkStream, backend: GuardedBackend) -> None:
        self._stream = stream
        self._backend = backend

    def abort(self) -> None:
        # shutdown(), unlike close(), wakes a thread blocked reading this socket.
        sock = self._stream.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max(max_bytes, READ_BYTES), _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return self._backend.track(
            _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout), self._backend)
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes], deadline: float | None) -> None:
        self._stream = stream
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._stream)
        while True:
            with _until(self._deadline), _as_httpx_errors():
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        with _as_httpx_errors():
            self._stream.close()


def _clamp(timeout: float | None, error: type[httpcore.TimeoutException]) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


@contextlib.contextmanager
def _until(deadline: float | None) -> Iterator[None]:
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in _HTTPX_ERRORS:
            if isinstance(exc, core_error):
                raise httpx_error(str(exc)) from exc
        raise
