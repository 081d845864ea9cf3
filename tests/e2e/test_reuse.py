"""Two workers on one database and a real origin: one URL in fifty rows is fetched once; the same upload again
is asked with its ETag, answered 304, and reuses the output."""

import dataclasses
import io

from imgopt.bootstrap.containers import create_container
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from imgopt.entrypoints.worker.process import build_worker
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, wait_for


def test_two_workers_fetch_a_url_of_fifty_rows_once_and_the_same_upload_again_costs_one_304(settings, clean_database):
    settings = dataclasses.replace(settings, worker_poll_seconds=0.2)
    containers = [create_container(settings) for _ in range(2)]
    for container in containers:
        container.persistence.engine.override(clean_database)
    use_cases = containers[0].use_cases
    workers = [build_worker(container, settings) for container in containers]
    rows = csv_bytes(*(f"{n},P{n},{{url}}" for n in range(1, 51)))

    def upload_and_wait(url: str):
        receipt = use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(rows.replace(b"{url}", url.encode())))
        finished = lambda: use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id).summary.finished  # noqa: E731
        wait_for(finished, timeout=30, message="the upload to finish")
        report = use_cases.get_status()(ANONYMOUS_TENANT_ID, receipt.request_id, details=True)
        return [image for product in report.details.products for image in product.images]

    with LocalServer() as origin:
        photo = origin.route("/photo.jpg", Reply(corpus_bytes("small-320x240.jpg"), etag='"v1"'))
        for worker in workers:
            worker.start()
        try:
            first = upload_and_wait(photo)
            objects = sorted((settings.data_dir / "files").rglob("*.jpg"))
            second = upload_and_wait(photo)
        finally:
            for worker in workers:
                worker.stop()
        requests = list(origin.requests)

    assert [request.headers.get("if-none-match") for request in requests] == [None, '"v1"']
    assert {image.status.value for image in first + second} == {"optimized"}
    assert sum(not image.reused for image in first) == 1 and all(image.reused for image in second)
    assert {image.output_url for image in first + second} == {first[0].output_url}
    assert sorted((settings.data_dir / "files").rglob("*.jpg")) == objects and len(objects) == 1
    for container in containers:
        container.persistence.engine.reset_override()
