"""CSV ingest through the real HTTP API against a plain PostgreSQL COPY of the same file, and the server's memory."""

import time
from pathlib import Path

import httpx
import psycopg

from bench.csvfiles import products_csv
from bench.database import scratch_database
from bench.result import Goal, Measure, Result, Verdict
from bench.server import PeakRss, imgopt_api
from bench.stats import column, interleave, median, paired_ratios

MB = 1e6
COPY_TABLE = "CREATE TABLE bench_copy (serial bigint, product_name text, input_image_urls text)"
COPY = "COPY bench_copy (serial, product_name, input_image_urls) FROM STDIN (FORMAT csv, HEADER)"


def ingest(quick: bool) -> Result:
    rows, big_rows, rounds = (5_000, 50_000, 1) if quick else (100_000, 1_000_000, 5)
    small, big = products_csv(rows), products_csv(big_rows)
    unusual = spaced_copy(small)
    result = Result(
        "ingest",
        f"{rows:,}-row CSV upload through the API vs PostgreSQL COPY; server memory on {big_rows:,} rows",
        method=(
            f"Original format, two distinct URLs per row ({small.stat().st_size / MB:.1f} MB). imgopt = POST /upload "
            "(multipart, streamed by httpx) to `imgopt api` run as a subprocess against a scratch database, timed "
            "until the 202 answer (rows validated and stored; no image processing). Reference = psycopg streaming "
            "the same file with COPY ... FROM STDIN (FORMAT csv, HEADER) into a plain 3-column table in the same "
            "database, connection and commit included. One 1,000-row warm-up each, then "
            f"{rounds} interleaved rounds; ratio paired per round. A third subject uploads the same rows with a "
            "space before each name (a file of unusual shape, which only the row-by-row rules read). "
            f"Memory: RSS of the server process and its children sampled every 20 ms with psutil while it ingests "
            f"a {big_rows:,}-row file ({big.stat().st_size / MB:.0f} MB), after the rounds above."
        ),
    )
    with scratch_database("ingest") as database_url:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(COPY_TABLE)
        limits = {"max_rows": str(big_rows * 2), "max_upload_bytes": str(big.stat().st_size * 2)}
        with imgopt_api(database_url, "ingest", **limits) as server:
            idle = server.rss()
            # Warm-up, so neither side's first round pays for imports, connections or caches.
            warm = products_csv(1_000)
            upload_csv(server.url, warm, 1_000)
            copy_csv(database_url, warm)
            samples = interleave(
                {
                    "imgopt": lambda: {"seconds": upload_csv(server.url, small, rows)},
                    "copy": lambda: {"seconds": copy_csv(database_url, small)},
                    "imgopt, unusual shape": lambda: {"seconds": upload_csv(server.url, unusual, rows)},
                },
                rounds,
            )
            before = server.rss()
            with PeakRss(server) as peak:
                big_seconds = upload_csv(server.url, big, big_rows)
            big_copy_seconds = copy_csv(database_url, big)
    seconds = {name: column(values, "seconds") for name, values in samples.items()}
    for name in ("imgopt", "copy", "imgopt, unusual shape"):
        rates = [rows / value for value in seconds[name]]
        result.measures += [
            Measure(name, "seconds", median(seconds[name]), "s", seconds[name]),
            Measure(name, "rows/s", median(rates), "rows/s", rates),
        ]
    result.measures += [
        Measure("imgopt api, idle after start", "RSS MB", idle / MB, "MB"),
        Measure(f"imgopt api, before the {big_rows:,}-row upload", "RSS MB", before / MB, "MB"),
        Measure(f"imgopt api, peak during it ({big_seconds:.1f} s)", "RSS MB", peak.peak / MB, "MB"),
    ]
    ratios = paired_ratios(seconds["imgopt"], seconds["copy"])
    unusual_ratios = paired_ratios(seconds["imgopt, unusual shape"], seconds["copy"])
    result.verdicts += [
        Verdict(f"imgopt / COPY time, {rows:,} rows", median(ratios), goal=Goal("<=", 2.0), samples=ratios),
        Verdict(
            f"imgopt / COPY time, {big_rows:,} rows (one run)", big_seconds / big_copy_seconds, goal=Goal("<=", 2.0)
        ),
        Verdict(f"imgopt api peak RSS, {big_rows:,} rows", peak.peak / MB, "MB", Goal("<", 300)),
        Verdict(f"peak / idle RSS, {big_rows:,} rows", peak.peak / idle),
        Verdict(f"imgopt / COPY time, {rows:,} rows of unusual shape", median(unusual_ratios), samples=unusual_ratios),
    ]
    result.details = {
        "rows": rows,
        "big_rows": big_rows,
        "rounds": rounds,
        "big_upload_seconds": big_seconds,
        "big_copy_seconds": big_copy_seconds,
    }
    return result


def spaced_copy(path: Path) -> Path:
    """The same rows with a space before each name: valid, but not of the plain shape."""
    spaced = path.with_name(f"{path.stem}-spaced.csv")
    if not spaced.is_file():
        spaced.write_bytes(path.read_bytes().replace(b",Product ", b", Product "))
    return spaced


def upload_csv(base_url: str, path: Path, rows: int) -> float:
    """Seconds for POST /upload of `path` to be answered 202, after checking every row was taken."""
    with path.open("rb") as csv_file:
        start = time.perf_counter()
        response = httpx.post(f"{base_url}/upload", files={"file": (path.name, csv_file, "text/csv")}, timeout=900)
        seconds = time.perf_counter() - start
    if response.status_code != 202 or response.json().get("products") != rows:
        raise RuntimeError(f"upload of {path.name} answered {response.status_code}: {response.text[:500]}")
    return seconds


def copy_csv(database_url: str, path: Path) -> float:
    """Seconds to connect, stream `path` through COPY in 1 MiB chunks, and commit."""
    start = time.perf_counter()
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        with cursor.copy(COPY) as copy, path.open("rb") as csv_file:
            while chunk := csv_file.read(1 << 20):
                copy.write(chunk)
        connection.commit()
    return time.perf_counter() - start
