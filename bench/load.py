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


async def _python(url: str, connections: int, seconds: float, headers: dict[str, str]) -> Load:
    parts = urlsplit(url)
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{extra}\r\n".encode()
    latencies: list[float] = []
    failures = [0]
    start = time.perf_counter()
    deadline = start + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                if not head.startswith(b"HTTP/1.1 2"):
                    failures[0] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return Load(
        len(latencies) / elapsed,
        percentile(latencies, 0.50) * 1e3,
        percentile(latencies, 0.99) * 1e3,
        len(latencies),
        failures[0],
    )
