import io
import os
import re
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from importlib.resources import files

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from imgopt.adapters.postgres.engine import make_engine
from imgopt.adapters.postgres.signal import IMAGE_WORK, PostgresWorkSignal
from imgopt.adapters.postgres.uow import SqlAlchemyUnitOfWork
from imgopt.application.use_cases.claiming import ClaimImages
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.image_jobs import ImageFailure, RetryPolicy, StoredImage
from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import RequestStatus
from imgopt.domain.product_csv import CsvRejected, ProductRow
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from imgopt.domain.webhooks import DEFAULT_RETRY_DELAYS, AttemptResult, Delivery, DeliveryStatus, RetrySchedule
from imgopt.entrypoints.worker.images import ImageRunner, ImageRunnerOptions
from imgopt.entrypoints.worker.webhooks import DeliveryRunner
from tests.postgres import create_database, drop_database
from tests.support import LocalServer, Reply, claim_in_lockstep, csv_bytes, wait_for
from tests.unit.fakes import FixedClock

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)


def head_revision() -> str:
    scripts = ScriptDirectory(str(files("imgopt.adapters.postgres") / "migrations"))
    return scripts.get_current_head()


def count(engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM images.{table}")).scalar()


def ingest(container, *rows: str):
    return container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(*rows)))


def stored(job) -> StoredImage:
    result = ImageResult("image/jpeg", 1000, 300, 8, 6)
    return StoredImage(f"{job.request_id}/{job.id}.jpg", f"http://imgopt.test/files/{job.id}.jpg", result)


def test_ingest_stores_products_and_a_pending_request(container, clean_database):
    receipt = ingest(
        container, '1,Shirt,"https://a.example/1.jpg, https://a.example/2.jpg"', "2,Hat,https://a.example/3.jpg"
    )

    summary = container.use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id).summary
    assert (summary.status, summary.products.total, summary.images.total, summary.images.pending) == (
        RequestStatus.PENDING,
        2,
        3,
        3,
    )
    assert count(clean_database, "productimages") == 2
    assert count(clean_database, "optimizerjobs") == 0


def test_a_rejected_file_leaves_no_trace(container, clean_database):
    rows = [f"{n},P{n},https://a.example/{n}.jpg" for n in range(1, 5001)] + ["5001,,https://a.example/x.jpg"]

    with pytest.raises(CsvRejected, match="line 5002"):
        ingest(container, *rows)

    assert count(clean_database, "productimages") == 0
    assert count(clean_database, "requests") == 0


@pytest.mark.parametrize(
    "name",
    ["Tab\there", "Back\\slash \\N", 'Quote "q"', "Ünïcødé 🛍️", "Two\nlines", "Carriage\rreturn", "{curly,braces}"],
)
def test_names_and_urls_survive_the_bulk_copy_exactly(container, name):
    url = 'https://a.example/we"ird\\path{x},y.jpg'
    data = (
        'S. No.,Product Name,Input Image Urls\n1,"'
        + name.replace('"', '""')
        + '","'
        + url.replace('"', '""')
        + ', https://b.example/2.jpg"\n'
    ).encode()

    receipt = container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(data))

    [product] = container.use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id, details=True).details.products
    assert product.name == name.strip()
    assert [image.input_url for image in product.images] == [url, "https://b.example/2.jpg"]


def test_ingesting_many_rows_is_one_bulk_write(container, clean_database):
    rows = [f'{n},Product {n},"https://a.example/{n}/1.jpg, https://a.example/{n}/2.jpg"' for n in range(1, 20_001)]

    receipt = ingest(container, *rows)

    assert (receipt.product_count, receipt.image_count) == (20_000, 40_000)
    assert count(clean_database, "productimages") == 20_000


def claimer(container, worker: str = "w1", at: datetime = NOW, lease: timedelta = timedelta(minutes=5)) -> ClaimImages:
    return ClaimImages(container.persistence.uow, FixedClock(at), worker, lease)


def recorder(container, worker: str = "w1") -> RecordOutcomes:
    use_cases = container.use_cases
    return RecordOutcomes(
        container.persistence.uow, FixedClock(NOW), worker, use_cases.announcer(), use_cases.webhook_work()
    )


def test_claiming_expands_products_into_jobs_a_slice_at_a_time(container, clean_database):
    receipt = ingest(container, *(f"{n},P{n},https://a.example/{n}.jpg" for n in range(1, 301)))

    jobs = claimer(container)(5)

    assert [job.line for job in jobs] == [2, 3, 4, 5, 6]
    assert all(job.attempts == 1 and job.request_id == receipt.request_id for job in jobs)
    assert 5 < count(clean_database, "optimizerjobs") < 300
    summary = container.use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id).summary
    assert (summary.status, summary.images.processing, summary.images.pending) == (RequestStatus.PROCESSING, 5, 295)


def test_two_workers_never_claim_the_same_job(container, clean_database):
    ingest(container, *(f'{n},P{n},"https://a.example/{n}/a.jpg,https://a.example/{n}/b.jpg"' for n in range(1, 151)))

    # 2 workers x 25 rounds x 7 jobs > 300: the queue runs dry
    claimed = claim_in_lockstep({worker: claimer(container, worker) for worker in ("w1", "w2")}, 25, 7)

    every = claimed["w1"] + claimed["w2"]
    assert len(every) == len(set(every)) == 300
    assert claimed["w1"] and claimed["w2"]


def test_recording_outcomes_counts_images_products_and_finishes_the_request(container):
    receipt = ingest(container, '1,A,"https://a.example/1.jpg,https://a.example/2.jpg"', "2,B,https://a.example/3.jpg")
    jobs = claimer(container)(10)
    outcomes = [
        job.succeeded(stored(job)) if job.line == 2 else job.failed(ImageFailure("HTTP 404"), RetryPolicy(), NOW)
        for job in jobs
    ]

    recorded = recorder(container)(outcomes)

    assert recorded == outcomes
    summary = container.use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id).summary
    assert (summary.status, summary.finished_at) == (RequestStatus.COMPLETED_WITH_ERRORS, NOW)
    assert (summary.images.optimized, summary.images.failed, summary.images.pending) == (2, 1, 0)
    assert (summary.products.finished, summary.products.with_errors) == (2, 1)
    assert (summary.bytes_in, summary.bytes_out) == (2000, 600)


def test_a_retry_goes_back_to_the_queue_until_due(container):
    receipt = ingest(container, "1,A,https://a.example/1.jpg")
    [job] = claimer(container)(10)
    retry = RetryPolicy(first_delay=timedelta(seconds=30))

    recorder(container)([job.failed(ImageFailure("timeout", transient=True), retry, NOW)])

    assert claimer(container, at=NOW + timedelta(seconds=29))(10) == []
    [again] = claimer(container, at=NOW + timedelta(seconds=31))(10)
    assert (again.id, again.attempts) == (job.id, 2)
    [product] = container.use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id, details=True).details.products
    assert product.images[0].failure_reason == "timeout"


def test_an_expired_lease_is_reclaimed_and_the_old_holder_cannot_record(container):
    ingest(container, "1,A,https://a.example/1.jpg")
    [job] = claimer(container, "dead-worker", lease=timedelta(seconds=10))(10)

    with container.persistence.uow() as uow:
        early = uow.jobs.reclaim_expired(NOW + timedelta(seconds=5))
        late = uow.jobs.reclaim_expired(NOW + timedelta(seconds=11))
        uow.commit()
    [reclaimed] = claimer(container, "w2", at=NOW + timedelta(seconds=11))(10)

    assert (early, late) == (0, 1)
    assert (reclaimed.id, reclaimed.attempts) == (job.id, 2)
    assert recorder(container, "dead-worker")([job.succeeded(stored(job))]) == []
    assert len(recorder(container, "w2")([reclaimed.succeeded(stored(reclaimed))])) == 1


def test_each_image_keeps_one_random_output_name_and_images_queued_before_keep_their_id(container, clean_database):
    ingest(container, '1,A,"https://a.example/1.jpg,https://a.example/2.jpg,https://a.example/3.jpg"')
    first, second, third = claimer(container, lease=timedelta(seconds=10))(10)
    with clean_database.begin() as connection:  # as an image queued before names were random reads
        connection.execute(text("UPDATE images.optimizerjobs SET output_name = NULL WHERE id = :id"), {"id": third.id})
        connection.execute(text("UPDATE images.optimizerjobs SET lease_until = :at"), {"at": NOW})
    with container.persistence.uow() as uow:
        uow.jobs.reclaim_expired(NOW + timedelta(seconds=1))
        uow.commit()
    again = {job.id: job for job in claimer(container, "w2", at=NOW + timedelta(seconds=1))(10)}

    names = [job.output_key("jpg") for job in (first, second)]
    assert all(re.fullmatch(rf"{first.request_id}/[0-9a-f]{{32}}\.jpg", name) for name in names), names
    assert names[0] != names[1] and str(first.id) not in names[0].split("/")[1]
    assert [again[job.id].output_key("jpg") for job in (first, second)] == names  # the same on every attempt
    assert again[third.id].output_key("jpg") == f"{third.request_id}/{third.id}.jpg"


def test_released_jobs_are_claimable_at_once_without_losing_an_attempt(container):
    ingest(container, "1,A,https://a.example/1.jpg")
    [job] = claimer(container)(10)

    with container.persistence.uow() as uow:
        uow.jobs.release("w1", [job.released()])
        uow.commit()
    [again] = claimer(container, "w2")(10)

    assert (again.id, again.attempts) == (job.id, 1)


def test_jobs_leased_to_a_worker_but_not_held_by_it_go_back_without_an_attempt(container):
    ingest(container, *(f"{n},P{n},https://a.example/{n}.jpg" for n in range(1, 4)))
    held, *unheard_of = claimer(container)(10)

    with container.persistence.uow() as uow:
        released = uow.jobs.release_unheld("w1", [held.id])
        uow.commit()
    again = claimer(container, "w2")(10)
    with container.persistence.uow() as uow:
        kept = uow.jobs.extend_leases("w1", [held.id], NOW + timedelta(seconds=60))

    assert released == 2
    assert sorted((job.id, job.attempts) for job in again) == sorted((job.id, 1) for job in unheard_of)
    assert kept == 1


def test_concurrent_recorders_count_each_product_once_and_finish_the_request_once(container, clean_database):
    container.use_cases.register_webhook()(ANONYMOUS_TENANT_ID, "http://127.0.0.1:9/every-request")
    receipt = ingest(container, '1,A,"' + ",".join(f"https://a.example/{n}.jpg" for n in range(40)) + '"')
    jobs = claimer(container, "w")(40)

    def record(part) -> None:
        recorder(container, "w")([job.succeeded(stored(job)) for job in part])

    threads = [threading.Thread(target=record, args=(jobs[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    summary = container.use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id).summary
    assert (summary.status, summary.images.optimized, summary.products.finished) == (RequestStatus.COMPLETED, 40, 1)
    assert count(clean_database, "webhookdeliveries") == 1


def test_the_outbox_hides_a_claimed_delivery_and_logs_attempts(container):
    receipt = ingest(container, "1,A,https://a.example/1.jpg")
    webhook = container.use_cases.register_webhook()(
        ANONYMOUS_TENANT_ID, "http://127.0.0.1:9/hook", receipt.request_id
    ).webhook
    delivery = Delivery("msg_x", webhook.id, receipt.request_id, "request.completed", {"a": 1}, NOW, NOW)
    with container.persistence.uow() as uow:
        uow.deliveries.add(delivery)
        uow.commit()

    with container.persistence.uow() as uow:
        [claimed] = uow.deliveries.claim_due(10, NOW, LEASE)
        assert uow.deliveries.claim_due(10, NOW, LEASE) == []
        result = AttemptResult(NOW, 500, None, 12)
        uow.deliveries.record_attempt(claimed.after(result, RetrySchedule.parse(DEFAULT_RETRY_DELAYS)), result)
        uow.commit()

    [(saved, attempts)] = container.persistence.status_reader().deliveries(receipt.request_id, ANONYMOUS_TENANT_ID)
    assert (saved.status, saved.attempts, saved.payload) == (DeliveryStatus.PENDING, 1, {"a": 1})
    assert saved.next_attempt_at == NOW + timedelta(seconds=5)
    assert [(a.status_code, a.duration_ms) for a in attempts] == [(500, 12)]


def test_deliveries_are_claimed_one_per_webhook_and_never_for_a_busy_one(container):
    receipt = ingest(container, "1,A,https://a.example/1.jpg")
    first = container.use_cases.register_webhook()(
        ANONYMOUS_TENANT_ID, "http://127.0.0.1:9/first", receipt.request_id
    ).webhook
    second = container.use_cases.register_webhook()(
        ANONYMOUS_TENANT_ID, "http://127.0.0.1:9/second", receipt.request_id
    ).webhook
    with container.persistence.uow() as uow:
        for n, webhook in enumerate([first, first, first, second]):
            at = NOW + timedelta(seconds=n)
            uow.deliveries.add(Delivery(f"msg_{n}", webhook.id, receipt.request_id, "e", {}, at, at))
        uow.commit()

    with container.persistence.uow() as uow:
        both = uow.deliveries.claim_due(10, NOW + timedelta(minutes=1), LEASE)
        only_first = uow.deliveries.claim_due(10, NOW + timedelta(minutes=1), LEASE, skip_webhooks=[second.id])
        uow.rollback()

    assert [d.id for d in both] == ["msg_0", "msg_3"]
    assert [d.id for d in only_first] == ["msg_1"]


def test_an_ingest_wakes_a_waiting_worker(container, clean_database):
    signal = PostgresWorkSignal(clean_database, IMAGE_WORK)
    assert signal.wait(0.05) is False
    woken = []
    waiter = threading.Thread(target=lambda: woken.append(signal.wait(10)))
    waiter.start()

    wait_for(lambda: signal._listener is not None, message="the listener to connect")
    ingest(container, "1,A,https://a.example/1.jpg")
    waiter.join(timeout=10)

    assert woken == [True]
    signal.close()


def test_migrations_can_run_from_several_processes_at_once(postgres_server, tmp_path):
    name = f"imgopt_migrate_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server, name)
    environment = {**os.environ, "IMGOPT_DATABASE_URL": url, "IMGOPT_DATA_DIR": str(tmp_path)}
    try:
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "imgopt.entrypoints.cli", "migrate"], env=environment, stderr=subprocess.PIPE
            )
            for _ in range(3)
        ]
        outputs = [process.communicate(timeout=60)[1].decode() for process in processes]

        assert [process.returncode for process in processes] == [0, 0, 0], outputs
        engine = make_engine(url, pool_size=1)
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM images.alembic_version")).scalar()
        assert version == head_revision()
        engine.dispose()
    finally:
        drop_database(postgres_server, name)


def test_a_unit_of_work_keeps_only_what_it_commits(clean_database):
    uow = SqlAlchemyUnitOfWork(clean_database)
    request_id = uuid.uuid4()
    rows = [ProductRow(2, 1, "A", ("https://a.example/1.jpg",))]

    with uow:
        uow.products.add_many(request_id, rows)
    with pytest.raises(RuntimeError), uow:
        uow.products.add_many(request_id, rows)
        raise RuntimeError("an error before commit")
    assert count(clean_database, "productimages") == 0

    with uow:
        uow.products.add_many(request_id, rows)
        uow.commit()
    assert count(clean_database, "productimages") == 1


def test_many_deliveries_sent_at_once_are_each_recorded_in_their_own_transaction(container, clean_database, corpus):
    use_cases = container.use_cases
    images = ImageRunner(
        use_cases.claim_images(),
        use_cases.process_image(),
        use_cases.record_outcomes(),
        use_cases.release_images(),
        use_cases.extend_leases(),
        ImageRunnerOptions(concurrency=2, downloads=4, tenant_downloads=4),
        container.telemetry.worker(),
    )
    deliveries = DeliveryRunner(
        use_cases.claim_deliveries(),
        use_cases.deliver_webhook(),
        slots=16,
        stop_grace=1,
        metrics=container.telemetry.worker(),
    )
    with LocalServer() as servers:
        servers.route("/photo.jpg", Reply((corpus / "small-320x240.jpg").read_bytes()))
        hooks = [servers.route(f"/hook/{n}", Reply(b"", 204)) for n in range(12)]
        for hook in hooks:
            use_cases.register_webhook()(ANONYMOUS_TENANT_ID, hook)
        receipt = ingest(container, f"1,A,{servers.url('/photo.jpg')}")

        images.drain(threading.Event())
        sent = deliveries.drain(threading.Event())
    images.close()
    deliveries.close()

    assert sent == 12
    delivered = container.persistence.status_reader().deliveries(receipt.request_id, ANONYMOUS_TENANT_ID)
    assert sorted(delivery.status.value for delivery, _ in delivered) == ["delivered"] * 12
    assert all([attempt.status_code for attempt in attempts] == [204] for _, attempts in delivered)


def test_list_parameters_go_in_binary_typed_and_every_element_as_sent(engine):
    awkward = ["plain", 'q"{x},\\', None, "é", ""]

    with engine.connect() as connection:
        typed, back = connection.execute(text("SELECT pg_typeof(:x)::text, CAST(:x AS text[])"), {"x": awkward}).one()
        ids = connection.execute(text("SELECT CAST(:ids AS bigint[])"), {"ids": [1, 2**40, None]}).scalar()
        empty = connection.execute(text("SELECT cardinality(CAST(:x AS text[]))"), {"x": []}).scalar()

    # The text dumper sent a list of strings untyped, each element quoted in Python; the binary one as text[].
    assert typed == "text[]"
    assert back == awkward
    assert ids == [1, 2**40, None]
    assert empty == 0
