"""Re-uploads on a real PostgreSQL, a real origin on loopback, real Pillow and files: only what changed costs."""

import dataclasses
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

from imgopt.adapters.postgres.uow import SqlAlchemyUnitOfWork
from imgopt.application.use_cases.retention import PurgeRequests
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID, Tenant
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, process_due

PHOTO = "small-320x240.jpg"


@pytest.fixture
def origin():
    with LocalServer() as server:
        yield server


def upload(container, *urls: str, tenant=ANONYMOUS_TENANT_ID):
    rows = (f"{n},P{n},{url}" for n, url in enumerate(urls, start=1))
    return container.use_cases.ingest_csv()(tenant, io.BytesIO(csv_bytes(*rows))).request_id


def images(container, request_id, tenant=ANONYMOUS_TENANT_ID):
    report = container.use_cases.get_status()(tenant, request_id, details=True, page_size=1000)
    return [image for product in report.details.products for image in product.images]


def stored(settings) -> list:
    return sorted((settings.data_dir / "files").rglob("*.*"))


def test_a_second_upload_asks_with_the_etag_gets_304_and_reuses_every_output(container, settings, origin):
    photo = origin.route("/photo.jpg", Reply(corpus_bytes(PHOTO), etag='"v1"'))
    other = origin.route("/other.jpg", Reply(corpus_bytes(PHOTO), last_modified="Mon, 07 Dec 2026 09:00:00 GMT"))
    first = upload(container, photo, other)
    process_due(container.use_cases)
    files = stored(settings)

    second = upload(container, photo, other)
    process_due(container.use_cases)

    asked = {request.path: request.headers for request in origin.requests[2:]}
    assert asked["/photo.jpg"].get("if-none-match") == '"v1"'
    assert asked["/other.jpg"].get("if-modified-since") == "Mon, 07 Dec 2026 09:00:00 GMT"
    assert len(origin.requests) == 4
    assert stored(settings) == files
    before, after = images(container, first), images(container, second)
    assert [image.reused for image in after] == [True, True]
    assert [image.output_url for image in after] == [image.output_url for image in before]
    assert {image.status for image in after} == {ImageStatus.OPTIMIZED}
    csv = b"".join(container.use_cases.export_output_csv()(ANONYMOUS_TENANT_ID, second)).decode().splitlines()
    assert csv[0] == "S. No.,Product Name,Input Image Urls,Output Image Urls"  # the original's, exactly
    assert csv[1].endswith(after[0].output_url)


def test_changed_bytes_are_optimized_again_and_the_first_output_stays(container, settings, origin):
    photo = origin.route("/photo.jpg", Reply(corpus_bytes(PHOTO), etag='"v1"'))
    first = upload(container, photo)
    process_due(container.use_cases)
    origin.route("/photo.jpg", Reply(corpus_bytes("flowers.jpeg"), etag='"v2"'))

    second = upload(container, photo)
    process_due(container.use_cases)

    [before], [after] = images(container, first), images(container, second)
    assert not after.reused and after.output_url != before.output_url
    assert (after.result.width, after.result.height) == (1920, 1080)
    assert len(stored(settings)) == 2


def test_the_same_url_in_fifty_rows_is_fetched_once(container, settings, origin):
    photo = origin.route("/photo.jpg", Reply(corpus_bytes(PHOTO)))
    request_id = upload(container, *[photo] * 50)

    process_due(container.use_cases)
    with container.persistence.engine().begin() as connection:  # the others wait a second in the queue: skip it
        connection.execute(text("UPDATE images.optimizerjobs SET next_attempt_at = now() WHERE status = 'pending'"))
    process_due(container.use_cases)

    assert origin.hits("/photo.jpg") == 1
    found = images(container, request_id)
    assert {image.status for image in found} == {ImageStatus.OPTIMIZED}
    assert sum(not image.reused for image in found) == 1
    assert len(stored(settings)) == 1


def test_purging_the_first_upload_keeps_the_object_the_second_reuses(container, settings, origin, clean_database):
    photo = origin.route("/photo.jpg", Reply(corpus_bytes(PHOTO), etag='"v1"'))
    first = upload(container, photo)
    process_due(container.use_cases)
    second = upload(container, photo)
    process_due(container.use_cases)
    with clean_database.begin() as connection:
        connection.execute(
            text("UPDATE images.requests SET finished_at = finished_at - interval '40 days' WHERE id = :id"),
            {"id": first},
        )
    purge = PurgeRequests(container.persistence.uow, container.core.clock(), container.imaging.storage())

    assert purge(timedelta(days=30)) == 1

    [image] = images(container, second)
    assert image.reused
    assert [path.name for path in stored(settings)] == [image.output_url.rsplit("/", 1)[1]]
    third = upload(container, photo)
    process_due(container.use_cases)
    assert images(container, third)[0].reused  # still remembered: the second points at it

    with clean_database.begin() as connection:
        connection.execute(text("UPDATE images.requests SET finished_at = finished_at - interval '40 days'"))
    assert purge(timedelta(days=30)) == 2
    assert stored(settings) == []
    with clean_database.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM images.source_fetches")).scalar() == 0


def test_another_tenant_fetches_and_stores_its_own(container, settings, origin, clean_database):
    photo = origin.route("/photo.jpg", Reply(corpus_bytes(PHOTO), etag='"v1"'))
    tenant = Tenant(uuid.uuid4(), f"team-{uuid.uuid4().hex[:6]}", datetime.now(UTC))
    with SqlAlchemyUnitOfWork(clean_database) as uow:
        uow.tenants.add(tenant)
        uow.commit()
    upload(container, photo)
    process_due(container.use_cases)

    theirs = upload(container, photo, tenant=tenant.id)
    process_due(container.use_cases)

    assert "if-none-match" not in origin.requests[-1].headers
    assert not images(container, theirs, tenant.id)[0].reused
    assert len(stored(settings)) == 2


@pytest.fixture
def retuned(settings, clean_database):
    """The same service restarted with another auto quality target: its optimizer makes other outputs."""
    from imgopt.bootstrap.containers import create_container

    container = create_container(dataclasses.replace(settings, auto_quality_target=60.0))
    container.persistence.engine.override(clean_database)
    yield container
    container.persistence.engine.reset_override()


def test_after_the_auto_target_changes_an_unchanged_source_is_fetched_and_optimized_again(
    container, retuned, settings, origin, clean_database
):
    photo = origin.route("/photo.jpg", Reply(corpus_bytes(PHOTO), etag='"v1"'))
    first = upload(container, photo)
    process_due(container.use_cases)

    second = upload(retuned, photo)
    process_due(retuned.use_cases)

    assert "if-none-match" not in origin.requests[-1].headers
    [before], [after] = images(container, first), images(retuned, second)
    assert not after.reused and after.output_url != before.output_url
    assert len(stored(settings)) == 2
    third = upload(retuned, photo)
    process_due(retuned.use_cases)
    assert origin.requests[-1].headers.get("if-none-match") == '"v1"'
    assert images(retuned, third)[0].output_url == after.output_url
    with clean_database.connect() as connection:  # each producer's output remembered under its own key
        assert connection.execute(text("SELECT count(*) FROM images.source_fetches")).scalar() == 2


def test_the_producer_names_the_engine_its_tables_and_the_auto_target(monkeypatch):
    from imgopt.adapters.imaging import jpeg_tables
    from imgopt.adapters.imaging.pillow import PillowOptimizer
    from imgopt.adapters.imaging.vips import VipsOptimizer

    pillow = PillowOptimizer().producer
    assert pillow.startswith("pillow/") and "tables=" in pillow
    assert PillowOptimizer(auto_quality_target=60.0).producer != pillow
    assert PillowOptimizer(avif_speed=4).producer != pillow
    assert VipsOptimizer(PillowOptimizer()).producer.startswith("vips=")
    assert VipsOptimizer(PillowOptimizer()).producer.endswith(pillow)
    monkeypatch.setattr(jpeg_tables, "LUMA_OFFSET", jpeg_tables.LUMA_OFFSET + 1)  # retuned tables
    assert PillowOptimizer().producer != pillow


def test_extending_a_held_image_extends_the_fetch_lease_of_its_source(container, origin):
    from imgopt.application.use_cases.claiming import ClaimImages, ExtendLeases
    from imgopt.domain.sources import SourcePlan
    from tests.unit.fakes import FixedClock

    photo = origin.route("/photo.jpg", Reply(corpus_bytes(PHOTO)))
    clock, lease = FixedClock(datetime.now(UTC)), timedelta(seconds=30)
    uow = container.persistence.uow
    claim, extend = ClaimImages(uow, clock, "w1", lease), ExtendLeases(uow, clock, "w1", lease)
    upload(container, photo)
    [fetching] = claim(1)
    upload(container, photo)

    clock.advance(seconds=20)
    assert extend([fetching.id]) == 1
    clock.advance(seconds=20)  # past the lease taken at claim time, within the extended one
    [waiting] = ClaimImages(uow, clock, "w2", lease)(1)

    assert fetching.source.holds_fetch
    assert waiting.source.plan(waiting.request_id) is SourcePlan.WAIT
    with container.persistence.uow() as other:  # a job this worker does not hold extends nothing
        assert other.sources.extend_fetches("w1", [waiting.id], clock.now() + lease) == 0


def test_a_reuse_gives_up_its_fetch_in_the_statement_that_remembers_it(container, origin, engine):
    photo = origin.route("/photo.jpg", Reply(corpus_bytes(PHOTO), etag='"v1"'))
    other = origin.route("/other.jpg", Reply(corpus_bytes(PHOTO), etag='"v2"'))
    upload(container, photo, other)
    process_due(container.use_cases)
    upload(container, photo, other)
    processed = [container.use_cases.process_image()(job) for job in container.use_cases.claim_images()(10)]
    held = "SELECT count(*) FROM images.source_fetches WHERE fetching_job IS NOT NULL OR fetching_until IS NOT NULL"
    with engine.connect() as connection:
        fetching = connection.execute(text(held)).scalar()
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        recorded = container.use_cases.record_outcomes()(processed)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert len(recorded) == 2 and all(outcome.reused for outcome in recorded)
    assert fetching == 2  # each image held its source's fetch
    with engine.connect() as connection:
        assert connection.execute(text(held)).scalar() == 0
    assert len([s for s in statements if s.startswith("UPDATE images.source_fetches")]) == 1
