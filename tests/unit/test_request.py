from datetime import UTC, datetime
from uuid import UUID

import pytest

from imgopt.domain.errors import IllegalTransition
from imgopt.domain.image_jobs import ImageFailure, ImageJob, RetryPolicy, StoredImage
from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.request import ProductProgress, RequestFinished, UploadRequest

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ID = UUID(int=7)
TENANT = UUID(int=70)


def request(images: int = 3, products: int = 2) -> UploadRequest:
    started = UploadRequest(
        ID, OptimizationOptions(), NOW, tenant_id=TENANT, product_count=products, image_count=images, last_line=3
    )
    started.expanded_through(3, NOW)
    return started


def optimized(line: int = 2, size: tuple[int, int] = (100, 40)):
    stored = StoredImage("k.jpg", "http://x/k.jpg", ImageResult("image/jpeg", *size, 1, 1))
    return ImageJob(1, ID, line, 0, "https://a.example/1.jpg", 1).succeeded(stored)


def failed(line: int = 2):
    job = ImageJob(2, ID, line, 0, "https://a.example/2.jpg", 1)
    return job.failed(ImageFailure("HTTP 404"), RetryPolicy(), NOW)


def test_the_first_expansion_starts_the_request_and_later_ones_only_advance_it():
    fresh = UploadRequest(ID, OptimizationOptions(), NOW, tenant_id=TENANT, product_count=2, image_count=2, last_line=3)

    fresh.expanded_through(2, NOW)
    fresh.expanded_through(3, datetime(2027, 1, 1, tzinfo=UTC))

    assert (fresh.status, fresh.started_at, fresh.expanded_line) == (RequestStatus.PROCESSING, NOW, 3)


def test_recording_counts_images_bytes_and_the_products_they_finished():
    counted = request()

    counted.record([optimized(), failed()], [ProductProgress(image_count=2, optimized=1, failed=1)], NOW)

    assert (counted.optimized, counted.failed, counted.bytes_in, counted.bytes_out) == (1, 1, 100, 40)
    assert (counted.products_finished, counted.products_with_errors) == (1, 1)
    assert counted.status is RequestStatus.PROCESSING and counted.events == []


def test_a_product_with_images_still_to_do_is_not_counted_yet():
    counted = request()

    counted.record([optimized()], [ProductProgress(image_count=2, optimized=1)], NOW)

    assert counted.products_finished == 0


def test_a_retry_counts_nothing():
    counted = request()
    retry = ImageJob(3, ID, 2, 0, "https://a.example/3.jpg", 1).failed(
        ImageFailure("503", transient=True), RetryPolicy(), NOW
    )

    counted.record([retry], [ProductProgress(image_count=1)], NOW)

    assert retry.status is ImageStatus.PENDING
    assert (counted.optimized, counted.failed, counted.products_finished) == (0, 0, 0)


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        ([optimized(2), optimized(3)], RequestStatus.COMPLETED),
        ([optimized(2), failed(3)], RequestStatus.COMPLETED_WITH_ERRORS),
        ([failed(2), failed(3)], RequestStatus.FAILED),
    ],
)
def test_the_last_image_finishes_the_request_and_raises_the_event_once(outcomes, status):
    counted = request(images=2)
    products = [ProductProgress(1, o.status is ImageStatus.OPTIMIZED, o.status is ImageStatus.FAILED) for o in outcomes]

    counted.record(outcomes, products, NOW)

    assert (counted.status, counted.finished_at, counted.events) == (status, NOW, [RequestFinished(ID)])


def test_a_finished_request_cannot_be_finished_again():
    counted = request(images=1)
    counted.record([optimized()], [ProductProgress(1, 1)], NOW)

    with pytest.raises(IllegalTransition):
        counted.record([optimized()], [], NOW)
