"""Read models: the status of a request, its products and their images."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.request import ProductProgress, UploadRequest


@dataclass(frozen=True, slots=True)
class ImageCounts:
    total: int
    processing: int
    optimized: int
    failed: int
    cancelled: int = 0

    @property
    def pending(self) -> int:
        return self.total - self.processing - self.optimized - self.failed - self.cancelled


@dataclass(frozen=True, slots=True)
class ProductCounts:
    total: int
    finished: int
    with_errors: int


@dataclass(frozen=True, slots=True)
class StatusSummary:
    request_id: UUID
    status: RequestStatus
    options: OptimizationOptions
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    products: ProductCounts
    images: ImageCounts
    bytes_in: int
    bytes_out: int

    @property
    def finished(self) -> bool:
        return self.status.is_terminal

    @classmethod
    def of(cls, request: UploadRequest, processing: int = 0) -> "StatusSummary":
        """The summary of `request`, `processing` of whose images are held by workers right now."""
        return cls(
            request_id=request.id,
            status=request.status,
            options=request.options,
            created_at=request.created_at,
            started_at=request.started_at,
            finished_at=request.finished_at,
            products=ProductCounts(request.product_count, request.products_finished, request.products_with_errors),
            images=ImageCounts(request.image_count, processing, request.optimized, request.failed, request.cancelled),
            bytes_in=request.bytes_in,
            bytes_out=request.bytes_out,
        )


@dataclass(frozen=True, slots=True)
class ImageDetail:
    position: int
    input_url: str
    status: ImageStatus
    attempts: int = 0
    output_url: str | None = None
    failure_reason: str | None = None
    result: ImageResult | None = None  # once optimized

    @property
    def reused(self) -> bool:
        """Whether its output is an earlier image's of the same source, unchanged."""
        return self.result is not None and self.result.reused


@dataclass(frozen=True, slots=True)
class ProductDetail:
    line: int
    serial: int
    name: str
    images: Sequence[ImageDetail]

    @property
    def status(self) -> RequestStatus:
        statuses = [image.status for image in self.images]
        if all(status is ImageStatus.PENDING for status in statuses):
            return RequestStatus.PENDING
        return ProductProgress.of(statuses).status

    def output_row(self) -> tuple[str, str, str, str]:
        """The original's output CSV row (its header is the compatibility kept, exactly); a failed image leaves
        its place empty, so order holds. Whether an output was reused is in the status details."""
        inputs = ", ".join(image.input_url for image in self.images)
        outputs = ", ".join(image.output_url or "" for image in self.images)
        return str(self.serial), self.name, inputs, outputs
