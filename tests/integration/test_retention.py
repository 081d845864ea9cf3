"""Retention on a real PostgreSQL and filesystem: old finished requests go, outputs first, from several workers."""

import dataclasses
import io
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

from sqlalchemy import text

from imgopt.application.use_cases.retention import PurgeRequests
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from imgopt.entrypoints.http.server import free_port
from imgopt.entrypoints.worker.process import build_worker
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, process_due, wait_for


def finished_requests(container, origin, count: int, name: str) -> list:
    """`count` finished requests, each of a photo of its own (one photo would be fetched once, its output shared)."""
    photos = [origin.route(f"/{name}-{n}.jpg", Reply(corpus_bytes("small-320x240.jpg"))) for n in range(count)]
    receipts = [
        container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(f"1,P{n},{photo}")))
        for n, photo in enumerate(photos)
    ]
    process_due(container.use_cases)
    return receipts


def age(engine, receipts, days: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE images.requests SET finished_at = finished_at - make_interval(days => :days)"
                " WHERE id = ANY(:ids)"
            ),
            {"days": days, "ids": [receipt.request_id for receipt in receipts]},
        )


def remaining(engine) -> set:
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT id FROM images.requests")).scalars())


def test_two_workers_purging_at_once_delete_each_old_request_once_with_its_outputs(container, clean_database, settings):
    with LocalServer() as origin:
        old, recent = finished_requests(container, origin, 6, "old"), finished_requests(container, origin, 1, "recent")
    age(clean_database, old, days=40)
    files = settings.data_dir / "files"
    purgers = [PurgeRequests(container.persistence.uow, container.core.clock(), container.imaging.storage(), batch=1)]
    purgers.append(
        PurgeRequests(container.persistence.uow, container.core.clock(), container.imaging.storage(), batch=1)
    )
    purged: list[int] = []

    threads = [threading.Thread(target=lambda p=p: purged.append(p(timedelta(days=30)))) for p in purgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(purged) == 6
    assert remaining(clean_database) == {recent[0].request_id}
    assert [path.parent.name for path in files.rglob("*.jpg")] == [str(recent[0].request_id)]


def test_imgopt_purge_deletes_by_the_period_given_and_refuses_a_period_it_cannot_read(
    container, clean_database, database_url, tmp_path
):
    with LocalServer() as origin:
        [old], [recent] = (
            finished_requests(container, origin, 1, "old"),
            finished_requests(container, origin, 1, "recent"),
        )
    age(clean_database, [old], days=2)
    environment = {
        **os.environ,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_DATA_DIR": str(tmp_path),
        "IMGOPT_PUBLIC_BASE_URL": f"http://127.0.0.1:{free_port()}",
    }

    def imgopt(*arguments: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "imgopt.entrypoints.cli", "purge", *arguments]
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)

    refused, done = imgopt("--older-than", "a while"), imgopt("--older-than", "1d")

    assert refused.returncode == 2 and "--older-than" in refused.stderr and "30d" in refused.stderr
    assert done.returncode == 0, done.stderr
    assert "purged 1 requests" in done.stdout
    assert remaining(clean_database) == {recent.request_id}


def test_a_worker_with_a_retention_period_purges_old_requests_and_sweeps_interrupted_writes(
    container, clean_database, settings
):
    with LocalServer() as origin:
        [old], [recent] = (
            finished_requests(container, origin, 1, "old"),
            finished_requests(container, origin, 1, "recent"),
        )
    age(clean_database, [old], days=8)
    leftover = settings.data_dir / "files" / str(recent.request_id) / ".incoming-killed"
    leftover.write_bytes(b"half an image")
    two_hours_ago = time.time() - 7200
    os.utime(leftover, (two_hours_ago, two_hours_ago))
    worker = build_worker(container, dataclasses.replace(settings, retention_days=7))

    worker.start()
    try:
        wait_for(lambda: remaining(clean_database) == {recent.request_id}, message="the old request to be purged")
        wait_for(lambda: not leftover.exists(), message="the interrupted write to be swept")
    finally:
        worker.stop()
