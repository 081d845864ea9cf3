"""GET /status/{id} under concurrent load against a bare Litestar handler returning the same document."""

import json
import os
import sys

import httpx

from bench import load
from bench.csvfiles import products_csv
from bench.database import scratch_database
from bench.result import Goal, Measure, Result, Verdict
from bench.server import ServerProcess, create_key, free_port, imgopt_api
from bench.stats import column, interleave, median, paired_ratios

CONNECTIONS = 64


def api(quick: bool) -> Result:
    seconds, warmup, rounds = (2, 1, 1) if quick else (10, 3, 3)
    tool = load.tool()
    result = Result(
        "api",
        f"GET /status/{{id}} under {CONNECTIONS} connections vs a bare Litestar handler",
        method=(
            f"Load generator: {tool} ({CONNECTIONS} keep-alive connections, {seconds} s per run"
            + (", one thread" if tool == "wrk" else "; wrk was not installed")
            + "). imgopt = `imgopt api` (uvicorn, one worker, IMGOPT_AUTH=required, no rate limit) on a scratch "
            "database holding one 10-row upload, asked for that upload's status with an API key in every request. "
            "Reference = bench/bare_app.py (Litestar, async handler returning the "
            "same JSON document, parsed once at start) under uvicorn, one worker, same log level. Both servers are "
            f"subprocesses on this machine, warmed up {warmup} s each, then {rounds} interleaved rounds; ratios "
            "paired per round."
        ),
    )
    with scratch_database("api") as database_url:
        key = {"Authorization": f"Bearer {create_key(database_url, 'api')}"}
        with imgopt_api(database_url, "api", auth="required") as server:
            request_id = _one_upload(server.url, key)
            document = httpx.get(f"{server.url}/status/{request_id}", headers=key).raise_for_status().content
            with _bare_server(document) as bare:
                urls = {"imgopt": f"{server.url}/status/{request_id}", "bare": f"{bare.url}/status/{request_id}"}
                bare_document = httpx.get(urls["bare"]).raise_for_status().content
                for url in urls.values():
                    load.generate(url, CONNECTIONS, warmup, key)
                samples = interleave({name: _runner(url, seconds, key) for name, url in urls.items()}, rounds)
    for name in ("imgopt", "bare"):
        rates, p99s = column(samples[name], "rps"), column(samples[name], "p99")
        result.measures += [
            Measure(name, "requests/s", median(rates), "req/s", rates),
            Measure(name, "p50 ms", median(column(samples[name], "p50")), "ms"),
            Measure(name, "p99 ms", median(p99s), "ms", p99s),
        ]
    rate_ratios = paired_ratios(column(samples["imgopt"], "rps"), column(samples["bare"], "rps"))
    p99_ratios = paired_ratios(column(samples["imgopt"], "p99"), column(samples["bare"], "p99"))
    result.verdicts += [
        Verdict("imgopt / bare requests/s", median(rate_ratios), goal=Goal(">=", 0.5), samples=rate_ratios),
        Verdict("imgopt p99", median(column(samples["imgopt"], "p99")), "ms", Goal("<", 20)),
        Verdict("imgopt / bare p99", median(p99_ratios), samples=p99_ratios),
    ]
    result.details = {
        "tool": tool,
        "connections": CONNECTIONS,
        "seconds": seconds,
        "rounds": rounds,
        "document_bytes": {"imgopt": len(document), "bare": len(bare_document)},
        "samples": samples,
    }
    return result


def _runner(url: str, seconds: float, headers: dict[str, str]):
    def run() -> dict[str, float]:
        measured = load.generate(url, CONNECTIONS, seconds, headers)
        return {"rps": measured.requests_per_second, "p50": measured.p50_ms, "p99": measured.p99_ms}

    return run


def _one_upload(base_url: str, headers: dict[str, str]) -> str:
    path = products_csv(10)
    with path.open("rb") as csv_file:
        files = {"file": (path.name, csv_file, "text/csv")}
        response = httpx.post(f"{base_url}/upload", files=files, headers=headers, timeout=60)
    response.raise_for_status()
    return response.json()["requestId"]


def _bare_server(document: bytes) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", "1", "--log-level", "info"]
    env = {**os.environ, "BENCH_BARE_DOCUMENT": json.dumps(json.loads(document))}
    return ServerProcess("bare-litestar", argv, env, port)
