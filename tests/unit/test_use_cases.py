import dataclasses
import io
from uuid import UUID

import pytest

from imgopt.application.errors import RequestNotFinished, RequestNotFound
from imgopt.application.ports import UnsafeUrl
from imgopt.domain.image_jobs import ImageFailure, StoredImage
from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.options import OptimizationOptions, OutputFormat
from imgopt.domain.product_csv import CsvRejected
from imgopt.domain.webhooks import WebhookFormat
from tests.support import csv_bytes
from tests.unit.world import TENANT_A, World


class App(World):
    def finish_all(self, fail_lines: set[int] = frozenset()) -> None:
        """Process every image the way a worker would, failing those on `fail_lines`."""
        outcomes = []
        for job in self.claim(1000):
            if job.line in fail_lines:
                outcomes.append(job.failed(ImageFailure("HTTP 404"), self.retry, self.clock.now()))
            else:
                url = f"http://imgopt.test/files/k{job.id}.jpg"
                outcomes.append(
                    job.succeeded(StoredImage(f"k{job.id}.jpg", url, ImageResult("image/jpeg", 100, 40, 1, 1)))
                )
        self.record(outcomes)


@pytest.fixture
def app() -> App:
    return App()


def test_ingest_stores_every_row_and_the_request(app):
    receipt = app.ingest(
        io.BytesIO(
            csv_bytes('1,Shirt,"https://a.example/1.jpg, https://a.example/2.jpg"', "2,Hat,https://a.example/3.jpg")
        )
    )

    assert (receipt.product_count, receipt.image_count) == (2, 3)
    assert app.db.commits == 1
    request = app.db.state.requests[receipt.request_id]
    assert (request.status, request.product_count, request.image_count) == (RequestStatus.PENDING, 2, 3)
    assert [row.serial for row in app.db.state.products[receipt.request_id]] == [1, 2]


def test_ingest_keeps_the_options(app):
    options = OptimizationOptions(quality=70, max_width=800, format=OutputFormat.WEBP)

    receipt = app.ingest(io.BytesIO(csv_bytes("1,A,https://a.example/1.jpg")), options)

    assert app.db.state.requests[receipt.request_id].options == options


def test_a_bad_row_anywhere_stores_nothing(app):
    data = csv_bytes("1,A,https://a.example/1.jpg", "2,B,https://a.example/2.jpg", "3,,https://a.example/3.jpg")

    with pytest.raises(CsvRejected, match="line 4, column 'Product Name': is empty"):
        app.ingest(io.BytesIO(data))

    assert app.db.commits == 0
    assert app.db.state.requests == {} and app.db.state.products == {}


def test_a_file_not_plain_is_read_again_by_the_row_rules_from_where_it_started(app):
    data = csv_bytes(" 1 , Shirt , https://a.example/1.jpg", '2,"Two\nlines",https://a.example/2.jpg')
    stream = io.BytesIO(b"preamble" + data)
    stream.seek(len(b"preamble"))

    receipt = app.ingest(stream)

    rows = app.db.state.products[receipt.request_id]
    assert [(row.line, row.serial, row.name) for row in rows] == [(2, 1, "Shirt"), (3, 2, "Two\nlines")]


class OneWayStream(io.RawIOBase):
    """A pipe, say: read once, never rewound."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._data.readinto(buffer)


def test_a_stream_that_cannot_be_rewound_is_read_once_by_the_row_rules(app):
    stream = io.BufferedReader(OneWayStream(csv_bytes("1,A,https://a.example/1.jpg", "2,B,https://a.example/2.jpg")))
    assert not stream.seekable()

    receipt = app.ingest(stream)

    assert [row.serial for row in app.db.state.products[receipt.request_id]] == [1, 2]


def test_an_upload_may_register_its_webhook(app):
    receipt = app.ingest(io.BytesIO(csv_bytes("1,A,https://a.example/1.jpg")), webhook_url="https://hooks.example/in")

    webhook = app.db.state.webhooks[receipt.webhook.id]
    assert (webhook.request_id, webhook.url, webhook.format) == (
        receipt.request_id,
        "https://hooks.example/in",
        WebhookFormat.JSON,
    )
    assert webhook.secret.startswith("whsec_")


def test_an_unsafe_webhook_refuses_the_upload_before_reading_it(app):
    with pytest.raises(UnsafeUrl):
        app.ingest(io.BytesIO(csv_bytes("1,A,https://a.example/1.jpg")), webhook_url="http://internal.example/hook")

    assert app.db.state.requests == {}


def test_status_counts_products_and_images(app):
    receipt = app.ingest(io.BytesIO(csv_bytes('1,A,"https://a.example/1.jpg,https://a.example/2.jpg"')))

    summary = app.status(receipt.request_id).summary

    assert (summary.status, summary.products.total, summary.images.total, summary.images.pending) == (
        RequestStatus.PENDING,
        1,
        2,
        2,
    )


def test_status_of_an_unknown_request_is_not_found(app):
    with pytest.raises(RequestNotFound):
        app.status(UUID(int=999))


def test_status_details_list_every_image(app):
    receipt = app.ingest(
        io.BytesIO(csv_bytes('1,A,"https://a.example/1.jpg,https://a.example/2.jpg"', "2,B,https://a.example/3.jpg"))
    )

    report = app.status(receipt.request_id, details=True)

    assert [[image.input_url for image in product.images] for product in report.details.products] == [
        ["https://a.example/1.jpg", "https://a.example/2.jpg"],
        ["https://a.example/3.jpg"],
    ]
    assert report.output_csv_url is None


def test_the_output_csv_waits_for_the_request_to_finish(app):
    receipt = app.ingest(io.BytesIO(csv_bytes("1,A,https://a.example/1.jpg")))

    with pytest.raises(RequestNotFinished, match="still pending: 1 of 1 images to go"):
        app.export(receipt.request_id)


def test_the_output_csv_lists_outputs_in_input_order_with_failures_left_empty(app):
    receipt = app.ingest(
        io.BytesIO(csv_bytes('1,A,"https://a.example/1.jpg,https://a.example/2.jpg"', "2,B,https://a.example/3.jpg"))
    )
    app.finish_all(fail_lines={3})

    text = b"".join(app.export(receipt.request_id)).decode()

    outputs = "http://imgopt.test/files/k1.jpg, http://imgopt.test/files/k2.jpg"
    assert text.splitlines() == [
        "S. No.,Product Name,Input Image Urls,Output Image Urls",
        f'1,A,"https://a.example/1.jpg, https://a.example/2.jpg","{outputs}"',
        "2,B,https://a.example/3.jpg,",
    ]
    report = app.status(receipt.request_id)
    assert report.summary.status is RequestStatus.COMPLETED_WITH_ERRORS
    assert report.output_csv_url == f"http://imgopt.test/status/{receipt.request_id}/output.csv"


def test_registering_for_an_unknown_request_is_not_found(app):
    with pytest.raises(RequestNotFound):
        app.register("https://hooks.example/in", UUID(int=999))


def test_a_webhook_registered_before_the_end_waits(app):
    receipt = app.ingest(io.BytesIO(csv_bytes("1,A,https://a.example/1.jpg")))

    app.register("https://hooks.example/in", receipt.request_id)

    assert app.db.state.deliveries == {}


def test_a_webhook_registered_after_the_end_is_queued_at_once(app):
    receipt = app.ingest(io.BytesIO(csv_bytes("1,A,https://a.example/1.jpg")))
    app.finish_all()

    webhook = app.register("https://hooks.example/in", receipt.request_id, WebhookFormat.MULTIPART_CSV).webhook

    [delivery] = app.db.state.deliveries.values()
    assert (delivery.webhook_id, delivery.next_attempt_at) == (webhook.id, app.clock.now())
    assert delivery.payload["type"] == "request.completed"
    assert delivery.payload["data"]["status"] == "completed"
    assert delivery.payload["data"]["outputCsvUrl"] == f"http://imgopt.test/status/{receipt.request_id}/output.csv"


@pytest.mark.parametrize("url", ["ftp://hooks.example/in", "not a url", "http://internal.example/hook"])
def test_unsafe_webhook_urls_are_refused(app, url):
    with pytest.raises(UnsafeUrl):
        app.register(url)


def test_a_global_webhook_needs_no_request(app):
    webhook = app.register("https://hooks.example/all").webhook

    assert webhook.request_id is None
    assert app.db.state.webhooks[webhook.id].url == "https://hooks.example/all"


def test_every_image_status_is_one_of_the_lifecycle(app):
    receipt = app.ingest(io.BytesIO(csv_bytes("1,A,https://a.example/1.jpg")))
    app.finish_all()

    [product] = app.status(receipt.request_id, details=True).details.products

    assert product.images[0].status is ImageStatus.OPTIMIZED
    assert product.status is RequestStatus.COMPLETED


def test_the_output_csv_neutralises_names_a_spreadsheet_would_run_and_can_be_told_not_to(app):
    receipt = app.ingest(
        io.BytesIO(
            csv_bytes(
                "1,=1+1,https://a.example/1.jpg",
                '2," =SUM(A1)",https://a.example/2.jpg',
                "3,@cmd,https://a.example/3.jpg",
            )
        )
    )
    app.finish_all()

    escaped = b"".join(app.export(receipt.request_id)).decode().splitlines()
    plain = b"".join(dataclasses.replace(app.export_output_csv, formula_escape=False)(TENANT_A, receipt.request_id))

    assert [line.split(",")[1] for line in escaped[1:]] == ["'=1+1", "'=SUM(A1)", "'@cmd"]
    assert [line.split(",")[1] for line in plain.decode().splitlines()[1:]] == ["=1+1", "=SUM(A1)", "@cmd"]
