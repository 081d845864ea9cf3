"""Storage that cannot take an output is a transient failure: the image waits and is retried, never lost, never
marked optimized without its object."""

import io
import uuid
from datetime import timedelta

from dependency_injector import providers
from sqlalchemy import text

from imgopt.adapters.storage.locations import open_storage
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from tests.support import LocalServer, Reply, ShiftedClock, corpus_bytes, csv_bytes, process_due


def job_rows(engine, request_id) -> list:
    with engine.connect() as connection:
        query = "SELECT status, attempts, failure_reason, output_key FROM images.optimizerjobs WHERE request_id = :id"
        return list(connection.execute(text(query), {"id": request_id}))


def test_a_missing_bucket_delays_the_image_until_the_bucket_exists(container, clean_database, s3_endpoint):
    bucket = f"imgopt-outage-{uuid.uuid4().hex[:12]}"
    storage = open_storage(f"s3://{bucket}", "http://imgopt.test/files", environ=s3_endpoint.environment)
    container.imaging.storage.override(providers.Object(storage))
    clock = ShiftedClock()
    container.core.clock.override(providers.Object(clock))
    with LocalServer() as origin:
        photo = origin.route("/shirt.jpg", Reply(corpus_bytes("small-320x240.jpg")))
        receipt = container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(f"1,Shirt,{photo}")))
        process_due(container.use_cases)
        [waiting] = job_rows(clean_database, receipt.request_id)
        s3_endpoint.create_bucket(bucket)
        not_yet = process_due(container.use_cases)  # the retry waits out its backoff
        clock.offset += timedelta(minutes=1)
        retried = process_due(container.use_cases)

    [stored] = job_rows(clean_database, receipt.request_id)
    assert (waiting.status, waiting.output_key) == ("pending", None)
    assert (not_yet, retried) == (0, 1)
    assert "could not store the output" in waiting.failure_reason and "bucket does not exist" in waiting.failure_reason
    assert (stored.status, stored.attempts) == ("optimized", 2)
    assert storage.stat(stored.output_key).media_type == "image/jpeg"
