"""A tenant whose origin trickles bytes costs only download capacity: another tenant's image is done meanwhile."""

import io
import time

import pytest

from tests.support import LocalServer, RawServer, Reply, corpus_bytes, csv_bytes, wait_for

JPEG = corpus_bytes("small-320x240.jpg")
FETCH_TOTAL_TIMEOUT = 30.0


def trickled_response(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


@pytest.fixture
def worker_container(start_worker):
    # Two optimize slots, and a whole fetch allowed 30 s: long enough that waiting on one shows.
    return start_worker(worker_concurrency=2, fetch_total_timeout=FETCH_TOTAL_TIMEOUT, worker_poll_seconds=0.2)


def upload(container, tenant, *urls: str):
    rows = [f"{n},Product {n},{url}" for n, url in enumerate(urls, start=1)]
    return container.use_cases.ingest_csv()(tenant, io.BytesIO(csv_bytes(*rows))).request_id


def seconds_to_finish(container, tenant, url: str) -> float:
    started = time.monotonic()
    request_id = upload(container, tenant, url)
    status = container.use_cases.get_status()
    summary = wait_for(lambda: (s := status(tenant, request_id).summary).finished and s, timeout=120, interval=0.005)
    assert summary.images.optimized == 1
    return time.monotonic() - started


def test_a_tenant_on_a_trickling_origin_does_not_hold_up_another_tenants_image(worker_container):
    container = worker_container
    keys = container.use_cases.create_api_key()
    slow_tenant = keys("slowloris", "tests").key.tenant_id
    tenant = keys("quick", "tests").key.tenant_id
    with LocalServer() as origin, RawServer(trickled_response(JPEG), drip=1.0) as trickle:
        origin.route("/b.jpg", Reply(JPEG, headers={"Content-Type": "image/jpeg"}))
        # B alone, three times: the slowest is the reference (the machine is shared).
        alone = max(seconds_to_finish(container, tenant, origin.url("/b.jpg")) for _ in range(3))

        slow_request = upload(container, slow_tenant, *(trickle.url(f"/a{n}.jpg") for n in range(4)))
        wait_for(lambda: trickle.connections == 4, timeout=30, message="tenant A's four downloads to start")
        # B again, three times, beside A's stalled downloads: the quickest is compared (a stall shows in all three).
        with_slow_tenant = min(seconds_to_finish(container, tenant, origin.url("/b.jpg")) for _ in range(3))

        a = container.use_cases.get_status()(slow_tenant, slow_request).summary
    print(f"B alone {alone:.3f} s (slowest of 3); with A's trickling origin {with_slow_tenant:.3f} s (quickest of 3)")
    assert a.images.processing == 4, "A's images are still downloading"
    # Held up, B would wait on the order of A's 30 s downloads; a tenth of that, or twice B alone, is not held up
    # (B alone takes tens of milliseconds, where a busy host's jitter alone can double it).
    assert with_slow_tenant <= max(2 * alone, FETCH_TOTAL_TIMEOUT / 10)
