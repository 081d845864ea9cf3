"""Load generation: wrk when installed, else a small keep-alive HTTP/1.1 client on asyncio."""

import asyncio
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.stats import percentile
from bench.workspace import PACKAGE

WRK_SCRIPT = PACKAGE / "wrk-report.lua"


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int


def tool() -> str:
    """wrk when installed, unless BENCH_LOAD_GENERATOR=python asks for the fallback."""
    if os.environ.get("BENCH_LOAD_GENERATOR") != "python" and shutil.which("wrk"):
        return "wrk"
    return "python-asyncio"


def generate(url: str, connections: int, seconds: float, headers: dict[str, str] | None = None) -> Load:
    """GET `url` (with `headers`) over `connections` keep-alive connections for `seconds`; any failure raises."""
    headers = headers or {}
    if tool() == "wrk":
        load = _wrk(url, connections, seconds, headers)
    else:
        load = asyncio.run(_python(url, connections, seconds, headers))
    if load.failures:
        raise RuntimeError(f"{load.failures} of {load.requests} requests to {url} failed or were not 2xx")
    return load


def _wrk(url: str, connections: int, seconds: float, headers: dict[str, str]) -> Load:
    # One wrk thread is plenty for one server worker, and leaves the second core to the server.
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(WRK_SCRIPT)]
    argv += [option for name, value in headers.items() for option in ("-H", f"{name}: {value}")] + [url]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH "))
    requests, duration_us, errors, non_2xx, p50_us, p99_us, _ = map(int, line.split()[1:])
    return Load(requests / (duration_us / 1e6), p50_us / 1e3, p99_us / 1e3, requests, errors + non_2xx)


class RawConnection:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads whole answers: a client that costs next to
    nothing per request, so what is timed is the server."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, headers: dict[str, str]
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host
        self._extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    @classmethod
    async def open(cls, url: str, headers: dict[str, str] | None = None) -> "RawConnection":
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc, headers or {})

    async def get(self, path: str) -> tuple[int, bytes]:
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n{self._extra}\r\n".encode())
        head = await self._reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        return int(head.split(b" ", 2)[1]), await self._reader.readexactly(length)

    def close(self) -> None:
        self._writer.close()


async def _python(url: str, connections: int, seconds: float, headers: dict[str, str]) -> Load:
    path = urlsplit(url).path
    latencies: list[float] = []
    failures = [0]
    start = time.perf_counter()
    deadline = start + seconds

    async def connection() -> None:
        raw = await RawConnection.open(url, headers)
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                status, _ = await raw.get(path)
                latencies.append(time.perf_counter() - sent)
                if not 200 <= status < 300:
                    failures[0] += 1
        finally:
            raw.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return Load(
        len(latencies) / elapsed,
        percentile(latencies, 0.50) * 1e3,
        percentile(latencies, 0.99) * 1e3,
        len(latencies),
        failures[0],
    )
