"""Paging through the details of a million-row upload: the API's memory stays flat, whatever the upload's size.

Before pagination one `GET /status/{id}?details=true` on 1,000,000 rows took the API from 124 MB to
2.49 GB resident. Now each answer holds one page (at most 1,000 products); two clients walk the
pages at once, from the start and from the middle, and the API's resident memory is sampled.
"""

import threading
import time

import httpx

from bench.csvfiles import products_csv
from bench.database import scratch_database
from bench.result import Goal, Measure, Result, Verdict
from bench.server import PeakRss, imgopt_api

MB = 1e6
PAGE = 1000


def details(quick: bool) -> Result:
    rows, pages = (20_000, 10) if quick else (1_000_000, 150)
    big = products_csv(rows)
    result = Result(
        "details",
        f"GET /status/{{id}}?details=true, pages of {PAGE}, on a {rows:,}-row upload: the API's memory",
        method=__doc__.split("\n\n", 1)[1].replace("\n", " ")
        + f" `imgopt api` as a subprocess on a scratch database; the {rows:,}-row CSV of the ingest measurement is"
        f" uploaded first; then two threads each follow `nextCursor` for {pages} pages of {PAGE}, one from the first"
        " product, one from the middle, while RSS (server and children) is sampled every 20 ms.",
    )
    with scratch_database("details") as database_url:
        limits = {"max_rows": str(rows * 2), "max_upload_bytes": str(big.stat().st_size * 2)}
        with imgopt_api(database_url, "details", **limits) as server:
            with big.open("rb") as csv_file:
                response = httpx.post(f"{server.url}/upload", files={"file": (big.name, csv_file)}, timeout=900)
            request_id = response.raise_for_status().json()["requestId"]
            walk_one_page = _Walker(server.url, request_id, "", 1)
            walk_one_page()  # warm-up: the first page's imports and caches are not the pages' cost
            before = server.rss()
            walks = [_Walker(server.url, request_id, cursor, pages) for cursor in ("", str(rows // 2))]
            with PeakRss(server) as peak:
                started = time.perf_counter()
                threads = [threading.Thread(target=walk) for walk in walks]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                seconds = time.perf_counter() - started
    page_bytes = [walk.page_bytes for walk in walks]
    if any(len(sizes) != pages for sizes in page_bytes):
        raise RuntimeError(f"a walk ended early: {[len(sizes) for sizes in page_bytes]} of {pages} pages")
    result.measures += [
        Measure("imgopt api, before the walks", "RSS MB", before / MB, "MB"),
        Measure("imgopt api, peak during two walks", "RSS MB", peak.peak / MB, "MB"),
        Measure("one page", "bytes", max(max(sizes) for sizes in page_bytes) / MB, "MB"),
        Measure("two walks", "pages/s", 2 * pages / seconds, "pages/s"),
    ]
    result.verdicts += [
        Verdict(f"API peak RSS paging {rows:,} rows, two clients", peak.peak / MB, "MB", Goal("<", 300)),
        Verdict("peak / before RSS", peak.peak / before),
    ]
    result.details = {"rows": rows, "pages_per_walk": pages, "page_size": PAGE, "seconds": seconds}
    return result


class _Walker:
    """Follows `nextCursor` from `cursor` for `pages` pages, keeping each answer's size."""

    def __init__(self, base: str, request_id: str, cursor: str, pages: int) -> None:
        self._url = f"{base}/status/{request_id}"
        self._cursor = cursor
        self._pages = pages
        self.page_bytes: list[int] = []

    def __call__(self) -> None:
        cursor = self._cursor
        with httpx.Client(timeout=120) as client:
            for _ in range(self._pages):
                params = {"details": "true", "limit": str(PAGE)} | ({"cursor": cursor} if cursor else {})
                response = client.get(self._url, params=params).raise_for_status()
                self.page_bytes.append(len(response.content))
                cursor = response.json()["details"]["nextCursor"]
                if cursor is None:
                    return
