"""The worker's counters, moved once a batch: each outcome still counted where it belongs."""

import uuid

from imgopt.adapters.metrics.registry import new_registry
from imgopt.adapters.metrics.worker import WorkerMetrics
from imgopt.domain.image_jobs import FailureClass, ImageOutcome, StoredImage
from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import ImageStatus


def result(reused: bool) -> ImageResult:
    return ImageResult(
        bytes_in=1000, bytes_out=400, width=10, height=10, media_type="image/jpeg", quality=50, reused=reused
    )


def outcome(status: ImageStatus, output: StoredImage | None = None, failure: FailureClass | None = None):
    return ImageOutcome(1, uuid.uuid4(), 1, status, 1, output, failure=failure)


def test_a_batch_counts_each_outcome_by_status_failure_reuse_and_bytes():
    registry = new_registry()
    metrics = WorkerMetrics(registry)
    made, reused = StoredImage("a", "u", result(False)), StoredImage("b", "u", result(True))
    batch = [
        outcome(ImageStatus.OPTIMIZED, made),
        *[outcome(ImageStatus.OPTIMIZED, reused)] * 3,
        outcome(ImageStatus.FAILED, failure=FailureClass.IMAGE),
        *[outcome(ImageStatus.PENDING, failure=FailureClass.FETCH)] * 2,
    ]

    metrics.recorded(batch)
    metrics.recorded(batch[:1])

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("imgopt_images_finished_total", outcome="optimized") == 5
    assert value("imgopt_images_finished_total", outcome="failed") == 1
    assert value("imgopt_images_reused_total") == 3
    assert value("imgopt_image_failures_total", **{"class": "image", "retried": "false"}) == 1
    assert value("imgopt_image_failures_total", **{"class": "fetch", "retried": "true"}) == 2
    assert value("imgopt_image_input_bytes_total") == 5000
    assert value("imgopt_image_output_bytes_total") == 2000
