"""Outputs under faults: an unwritable directory delays images, loses none; a failed image's output is not served."""

import io
import os
import subprocess
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from imgopt.application.use_cases.claiming import ClaimImages
from imgopt.bootstrap.containers import create_container
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from tests.support import LocalServer, Reply, ShiftedClock, corpus_bytes, csv_bytes, wait_for

IMAGES = 6


@pytest.fixture
def service_clock():
    return ShiftedClock()


@contextmanager
def unwritable(directory: Path):
    """Nothing can be created in `directory` (root ignores permissions, not the immutable flag)."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(directory)], check=True)
    else:
        directory.chmod(0o555)
    try:
        with pytest.raises(OSError):
            (directory / "probe").mkdir()
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        else:
            directory.chmod(0o755)


def test_an_unwritable_output_directory_delays_images_for_minutes_and_records_none_without_its_file(
    service, service_clock, clean_database
):
    photo = Reply(corpus_bytes("small-320x240.jpg"), headers={"Content-Type": "image/jpeg"})
    # A URL each: images of one URL would wait for its first fetch (see re-uploads), not fail on their own.
    rows = [f"{n},P{n},{service.origin.route(f'/unwritable/{n}.jpg', photo)}" for n in range(1, IMAGES + 1)]

    with unwritable(service.files):
        receipt = service.upload(csv_bytes(*rows))
        request_id = receipt["requestId"]
        failed_once = wait_for(
            lambda: failed_first_attempts(clean_database, request_id), timeout=60, message="every first attempt to fail"
        )
        during = service.status(request_id)
        moment = service_clock.now()
    service_clock.offset += timedelta(minutes=1)
    done = service.finished(request_id)

    assert during["images"] == {
        "total": IMAGES,
        "pending": IMAGES,
        "processing": 0,
        "optimized": 0,
        "failed": 0,
        "cancelled": 0,
    }
    assert {row.failure_reason.split(":")[0] for row in failed_once} == {"could not store the output"}
    assert min(row.next_attempt_at for row in failed_once) > moment + timedelta(seconds=20)
    assert (done["status"], done["images"]["optimized"]) == ("completed", IMAGES)
    rows = jobs(clean_database, request_id)
    assert {(row.status, row.attempts) for row in rows} == {("optimized", 2)}
    for row in rows:
        assert (service.files / row.output_key).is_file()
        assert httpx.get(row.output_url).status_code == 200


def failed_first_attempts(engine, request_id: str) -> list | None:
    rows = jobs(engine, request_id)
    return rows if len(rows) == IMAGES and all((r.status, r.attempts) == ("pending", 1) for r in rows) else None


def jobs(engine, request_id: str) -> list:
    with engine.connect() as connection:
        query = text(
            "SELECT id, status, attempts, failure_reason, next_attempt_at, output_key, output_url"
            " FROM images.optimizerjobs WHERE request_id = :id ORDER BY id"
        )
        return list(connection.execute(query, {"id": request_id}))


def test_an_output_stored_by_a_worker_that_died_is_not_served_once_the_image_fails_for_good(api, settings):
    base, container = api
    with LocalServer() as origin:
        photo = origin.route("/once.jpg", Reply(corpus_bytes("small-320x240.jpg")), Reply(b"gone", 404))
        use_cases = container.use_cases
        receipt = use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(f"1,Hat,{photo}")))
        doomed = ClaimImages(container.persistence.uow, container.core.clock(), "doomed", timedelta(0))
        [job] = doomed(1)
        stray = use_cases.process_image()(job).output  # stored; then this worker died before recording it
        use_cases.reclaim_expired_leases()()  # its lease ran out: any worker's lease loop puts the image back
        successor = create_container(settings)
        successor.persistence.engine.override(container.persistence.engine())
        served_before = httpx.get(f"{base}/files/{stray.key}").status_code

        [again] = successor.use_cases.claim_images()(1)
        successor.use_cases.record_outcomes()([successor.use_cases.process_image()(again)])

    assert served_before == 200
    summary = use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id).summary
    assert (summary.status.value, summary.images.failed) == ("failed", 1)
    assert httpx.get(f"{base}/files/{stray.key}").status_code == 404
