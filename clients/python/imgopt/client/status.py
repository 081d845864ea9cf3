"""The status document of a request, as typed, read-only structs (camelCase on the wire, snake_case here)."""

from datetime import datetime
from uuid import UUID

import msgspec

# `cancelled` comes with request cancellation; listing it now keeps older clients from waiting forever.
FINISHED = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})


class Model(msgspec.Struct, rename="camel", frozen=True):
    """Fields the server adds later are ignored, so an older client keeps working."""


class Options(Model):
    quality: int | str
    max_width: int | None = None
    max_height: int | None = None
    format: str = "original"


class ProductCounts(Model):
    total: int
    finished: int
    with_errors: int


class ImageCounts(Model):
    total: int
    pending: int
    processing: int
    optimized: int
    failed: int
    cancelled: int = 0

    @property
    def done(self) -> int:
        """Images that will not change any more: optimized, failed or cancelled."""
        return self.optimized + self.failed + self.cancelled


class Image(Model):
    position: int
    input_url: str
    status: str
    attempts: int = 0
    output_url: str | None = None
    failure_reason: str | None = None
    media_type: str | None = None
    bytes_in: int | None = None
    bytes_out: int | None = None
    width: int | None = None
    height: int | None = None
    quality: int | None = None
    score: float | None = None
    reused: bool | None = None  # its output is an earlier image's of the same unchanged source; None until optimized


class Product(Model):
    line: int
    serial: int
    name: str
    status: str
    images: list[Image]


class Attempt(Model):
    at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0


class Delivery(Model):
    id: str
    webhook_id: UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None = None
    log: list[Attempt] = []


class Details(Model):
    """One page of products; `next_cursor` names the next page, None on the last."""

    products: list[Product]
    webhook_deliveries: list[Delivery] = []
    next_cursor: str | None = None


class Status(Model):
    request_id: UUID
    status: str
    created_at: datetime
    options: Options
    products: ProductCounts
    images: ImageCounts
    bytes_in: int
    bytes_out: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    output_csv_url: str | None = None
    details: Details | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def saving(self) -> float | None:
        """The share of bytes saved over the optimized images, 0.75 for 75 %; None before any is done."""
        return 1 - self.bytes_out / self.bytes_in if self.bytes_in else None
