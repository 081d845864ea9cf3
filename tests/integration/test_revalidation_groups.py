"""Re-uploads claimed in groups on a real PostgreSQL and a real origin on loopback: a transaction per group, not
per few images, and a group a dead worker held comes back whole."""

import dataclasses
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from imgopt.adapters.metrics.registry import new_registry
from imgopt.adapters.metrics.worker import WorkerMetrics
from imgopt.application.use_cases.claiming import RevalidationGroup
from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.origins import OriginLimits
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from imgopt.entrypoints.worker.images import ImageRunner, ImageRunnerOptions
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, process_due
from tests.unit.fakes import FixedClock

PHOTO = "small-320x240.jpg"
IMAGES = 120


@pytest.fixture
def origin():
    with LocalServer() as server:
        yield server


def catalogue(origin: LocalServer, count: int = IMAGES) -> list[str]:
    data = corpus_bytes(PHOTO)
    return [origin.route(f"/p/{n}.jpg", Reply(data, etag=f'"v{n}"')) for n in range(count)]


def upload(container, urls: list[str]):
    rows = (f"{n},P{n},{url}" for n, url in enumerate(urls, start=1))
    return container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(*rows))).request_id


def jobs_of(engine, request_id) -> list:
    with engine.connect() as connection:
        query = "SELECT id, status, attempts, claimed_by FROM images.optimizerjobs WHERE request_id = :id ORDER BY id"
        return connection.execute(text(query), {"id": request_id}).all()


def drained(container, group: int) -> tuple[int, list[int]]:
    """Drain the queue with a runner of the bench's shape (3 optimizing, 12 downloads, an origin's 4 slots);
    return how many images it recorded and the size of each claim it made."""
    use_cases, claims = container.use_cases, []
    claim = use_cases.claim_images()

    def counted(*args):
        jobs = claim(*args)
        claims.append(len(jobs))
        return jobs

    options = ImageRunnerOptions(3, 12, 6, revalidation_group=group, origin_limits=OriginLimits(4))
    runner = ImageRunner(
        counted,
        use_cases.process_image(),
        use_cases.record_outcomes(),
        use_cases.release_images(),
        use_cases.extend_leases(),
        options,
        WorkerMetrics(new_registry()),
    )
    try:
        recorded = runner.drain(threading.Event())
    finally:
        runner.close()
    return recorded, claims


def test_a_re_upload_is_claimed_a_group_at_a_time_and_every_image_is_reused(container, settings, origin, engine):
    urls = catalogue(origin)
    first = upload(container, urls)
    assert process_due(container.use_cases) == IMAGES
    files = sorted((settings.data_dir / "files").rglob("*.*"))

    second = upload(container, urls)
    recorded, claims = drained(container, group=32)

    assert recorded == IMAGES, claims
    # A first claim of three finds revalidations; then groups of up to 32 (two held at most): a handful of
    # transactions where claims of a few, as for images to optimize, took 39.
    assert len(claims) <= 10, claims
    assert max(claims) >= 16
    report = container.use_cases.get_status()(ANONYMOUS_TENANT_ID, second, details=True, page_size=1000)
    assert report.summary.status is RequestStatus.COMPLETED
    reused = [image for product in report.details.products for image in product.images]
    assert [image.reused for image in reused] == [True] * IMAGES
    earlier = container.use_cases.get_status()(ANONYMOUS_TENANT_ID, first, details=True, page_size=1000)
    made = [image for product in earlier.details.products for image in product.images]
    assert [(i.output_url, dataclasses.replace(i.result, reused=True)) for i in made] == [
        (i.output_url, i.result) for i in reused
    ]  # every result field as the image that made the output recorded it
    assert len(origin.requests) == 2 * IMAGES
    assert all(request.headers.get("if-none-match") for request in origin.requests[IMAGES:])
    assert sorted((settings.data_dir / "files").rglob("*.*")) == files
    assert {(row.status, row.attempts) for row in jobs_of(engine, second)} == {(ImageStatus.OPTIMIZED.value, 1)}


def test_without_groups_the_same_re_upload_takes_a_claim_every_few_images(container, origin):
    urls = catalogue(origin)
    upload(container, urls)
    process_due(container.use_cases)

    upload(container, urls)
    recorded, claims = drained(container, group=0)

    assert recorded == IMAGES
    assert len(claims) >= IMAGES // 6  # the measure the grouped test is compared with


def test_a_group_a_dead_worker_held_goes_back_whole_and_is_reused_after(container, origin, engine):
    urls = catalogue(origin, 40)
    upload(container, urls)
    process_due(container.use_cases)
    second = upload(container, urls)
    # The doomed worker claimed a group half a minute ago and never recorded any: its leases have run out.
    clock, lease = FixedClock(datetime.now(UTC) - timedelta(seconds=31)), timedelta(seconds=30)
    claim = dataclasses.replace(container.use_cases.claim_images(), clock=clock, worker_id="doomed", lease=lease)

    group = claim(3, DownloadRoom(6), group=RevalidationGroup(32))
    held = jobs_of(engine, second)
    reclaimed = container.use_cases.reclaim_expired_leases()()
    after = jobs_of(engine, second)
    process_due(container.use_cases)

    assert len(group) == 32
    assert all(job.source.revalidates(job.request_id) for job in group)
    assert sum(row.claimed_by == "doomed" for row in held) == 32
    assert reclaimed == 32
    assert {(row.status, row.claimed_by) for row in after} == {(ImageStatus.PENDING.value, None)}
    assert sorted(row.attempts for row in after) == [0] * 8 + [1] * 32  # each image of the group charged once
    done = jobs_of(engine, second)
    assert {row.status for row in done} == {ImageStatus.OPTIMIZED.value}
    assert sorted(row.attempts for row in done) == [1] * 8 + [2] * 32


def test_a_group_keeps_images_to_optimize_only_up_to_the_free_places_and_hands_back_the_rest(container, origin, engine):
    old = catalogue(origin, 4)
    upload(container, old)
    process_due(container.use_cases)
    new = [origin.route(f"/new/{n}.jpg", Reply(corpus_bytes(PHOTO))) for n in range(10)]
    second = upload(container, old + new)
    clock, lease = FixedClock(datetime.now(UTC)), timedelta(seconds=30)

    claim = dataclasses.replace(container.use_cases.claim_images(), clock=clock, lease=lease)
    kept = dataclasses.replace(claim, worker_id="w1")(2, DownloadRoom(6), group=RevalidationGroup(32))
    rows = jobs_of(engine, second)
    [other] = dataclasses.replace(claim, worker_id="w2")(1)

    revalidating = [job for job in kept if job.source.revalidates(job.request_id)]
    assert (len(revalidating), len(kept)) == (4, 6)  # the four remembered, and two of the ten new
    handed_back = [row for row in rows if row.claimed_by is None]
    assert len(handed_back) == 8
    assert {(row.status, row.attempts) for row in handed_back} == {(ImageStatus.PENDING.value, 0)}
    assert other.source.holds_fetch  # a handed-back image leased no fetch of its source


def test_a_reuse_remembers_who_used_the_source_last_and_the_validators_of_its_304(container, origin, engine):
    data = corpus_bytes(PHOTO)
    url = origin.route("/p.jpg", Reply(data, etag='"v1"'), Reply(b"", 304, {"ETag": '"v2"'}))
    upload(container, [url])
    process_due(container.use_cases)
    query = "SELECT request_id, etag, fetched_at, output_key FROM images.source_fetches"
    with engine.connect() as connection:
        [before] = connection.execute(text(query)).all()

    second = upload(container, [url])
    process_due(container.use_cases)
    with engine.connect() as connection:
        [after] = connection.execute(text(query)).all()

    assert origin.requests[-1].headers.get("if-none-match") == '"v1"'
    assert (after.request_id, after.etag, after.output_key) == (second, '"v2"', before.output_key)
    assert after.fetched_at > before.fetched_at
